//===- Lexer.cpp ----------------------------------------------------------===//
#include "lace/Frontend/Lexer.h"

#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace lace::frontend {

std::string_view tokenKindDescription(TokenKind kind) {
  switch (kind) {
  case TokenKind::Eof:
    return "end of file";
  case TokenKind::Identifier:
    return "identifier";
  case TokenKind::IntLiteral:
    return "integer literal";
  case TokenKind::FloatLiteral:
    return "float literal";
  case TokenKind::StringLiteral:
    return "string literal";
  case TokenKind::KwImport:
    return "'import'";
  case TokenKind::KwPattern:
    return "'pattern'";
  case TokenKind::KwLet:
    return "'let'";
  case TokenKind::KwMask:
    return "'mask'";
  case TokenKind::KwScore:
    return "'score'";
  case TokenKind::KwTrue:
    return "'true'";
  case TokenKind::KwFalse:
    return "'false'";
  case TokenKind::KwIn:
    return "'in'";
  case TokenKind::LParen:
    return "'('";
  case TokenKind::RParen:
    return "')'";
  case TokenKind::LBrace:
    return "'{'";
  case TokenKind::RBrace:
    return "'}'";
  case TokenKind::Comma:
    return "','";
  case TokenKind::Semicolon:
    return "';'";
  case TokenKind::Colon:
    return "':'";
  case TokenKind::Question:
    return "'?'";
  case TokenKind::Assign:
    return "'='";
  case TokenKind::EqEq:
    return "'=='";
  case TokenKind::NotEq:
    return "'!='";
  case TokenKind::Less:
    return "'<'";
  case TokenKind::LessEq:
    return "'<='";
  case TokenKind::Greater:
    return "'>'";
  case TokenKind::GreaterEq:
    return "'>='";
  case TokenKind::Plus:
    return "'+'";
  case TokenKind::Minus:
    return "'-'";
  case TokenKind::Star:
    return "'*'";
  case TokenKind::Slash:
    return "'/'";
  case TokenKind::Percent:
    return "'%'";
  case TokenKind::Bang:
    return "'!'";
  case TokenKind::Tilde:
    return "'~'";
  case TokenKind::Amp:
    return "'&'";
  case TokenKind::AmpAmp:
    return "'&&'";
  case TokenKind::Pipe:
    return "'|'";
  case TokenKind::PipePipe:
    return "'||'";
  case TokenKind::DotDot:
    return "'..'";
  }
  return "token";
}

namespace {

bool isIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentChar(char c) { return isIdentStart(c) || isDigit(c); }

TokenKind keywordKind(std::string_view text) {
  if (text == "import")
    return TokenKind::KwImport;
  if (text == "pattern")
    return TokenKind::KwPattern;
  if (text == "let")
    return TokenKind::KwLet;
  if (text == "mask")
    return TokenKind::KwMask;
  if (text == "score")
    return TokenKind::KwScore;
  if (text == "true")
    return TokenKind::KwTrue;
  if (text == "false")
    return TokenKind::KwFalse;
  if (text == "in")
    return TokenKind::KwIn;
  return TokenKind::Identifier;
}

class Lexer {
public:
  Lexer(const SourceManager &sources, FileId file, DiagnosticEngine &diags)
      : file_(file), text_(sources.contents(file)), diags_(diags) {}

  std::vector<Token> run() {
    std::vector<Token> tokens;
    while (!diags_.stopped()) {
      skipTrivia();
      if (pos_ >= text_.size())
        break;
      Token token;
      if (lexToken(token))
        tokens.push_back(std::move(token));
    }
    Token eof;
    std::uint32_t end = static_cast<std::uint32_t>(text_.size());
    eof.range = {file_, end, end};
    tokens.push_back(eof);
    return tokens;
  }

private:
  SourceRange rangeFrom(std::size_t begin) const {
    return {file_, static_cast<std::uint32_t>(begin),
            static_cast<std::uint32_t>(pos_)};
  }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  void skipTrivia() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
          c == '\v') {
        ++pos_;
      } else if (c == '/' && peek(1) == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n')
          ++pos_;
      } else if (c == '/' && peek(1) == '*') {
        std::size_t begin = pos_;
        std::size_t close = text_.find("*/", pos_ + 2);
        if (close == std::string_view::npos) {
          pos_ = begin + 2;
          diags_.emit(
              DiagnosticKind::UnterminatedComment, rangeFrom(begin),
              "unterminated block comment, expected it to be closed before "
              "the end of the file");
          pos_ = text_.size();
          return;
        }
        pos_ = close + 2;
      } else {
        return;
      }
    }
  }

  bool lexToken(Token &token) {
    std::size_t begin = pos_;
    char c = text_[pos_];
    if (isIdentStart(c)) {
      while (pos_ < text_.size() && isIdentChar(text_[pos_]))
        ++pos_;
      token.text = text_.substr(begin, pos_ - begin);
      token.kind = keywordKind(token.text);
      token.range = rangeFrom(begin);
      return true;
    }
    if (isDigit(c))
      return lexNumber(token);
    if (c == '"')
      return lexString(token);
    TokenKind kind;
    std::size_t length = 1;
    switch (c) {
    case '(':
      kind = TokenKind::LParen;
      break;
    case ')':
      kind = TokenKind::RParen;
      break;
    case '{':
      kind = TokenKind::LBrace;
      break;
    case '}':
      kind = TokenKind::RBrace;
      break;
    case ',':
      kind = TokenKind::Comma;
      break;
    case ';':
      kind = TokenKind::Semicolon;
      break;
    case ':':
      kind = TokenKind::Colon;
      break;
    case '?':
      kind = TokenKind::Question;
      break;
    case '+':
      kind = TokenKind::Plus;
      break;
    case '-':
      kind = TokenKind::Minus;
      break;
    case '*':
      kind = TokenKind::Star;
      break;
    case '/':
      kind = TokenKind::Slash;
      break;
    case '%':
      kind = TokenKind::Percent;
      break;
    case '~':
      kind = TokenKind::Tilde;
      break;
    case '=':
      kind = peek(1) == '=' ? (length = 2, TokenKind::EqEq) : TokenKind::Assign;
      break;
    case '!':
      kind = peek(1) == '=' ? (length = 2, TokenKind::NotEq) : TokenKind::Bang;
      break;
    case '<':
      kind = peek(1) == '=' ? (length = 2, TokenKind::LessEq) : TokenKind::Less;
      break;
    case '>':
      kind = peek(1) == '=' ? (length = 2, TokenKind::GreaterEq)
                            : TokenKind::Greater;
      break;
    case '&':
      kind = peek(1) == '&' ? (length = 2, TokenKind::AmpAmp) : TokenKind::Amp;
      break;
    case '|':
      kind =
          peek(1) == '|' ? (length = 2, TokenKind::PipePipe) : TokenKind::Pipe;
      break;
    case '.':
      if (peek(1) == '.') {
        kind = TokenKind::DotDot;
        length = 2;
        break;
      }
      [[fallthrough]];
    default: {
      // Skip one UTF-8 sequence so the caret covers the whole character.
      ++pos_;
      while (pos_ < text_.size() &&
             (static_cast<unsigned char>(text_[pos_]) & 0xC0) == 0x80)
        ++pos_;
      std::string shown;
      unsigned char uc = static_cast<unsigned char>(c);
      if (uc >= 0x20 && uc < 0x7F) {
        shown = std::string("'") + c + "'";
      } else {
        static const char *hex = "0123456789abcdef";
        shown = std::string("byte 0x") + hex[uc >> 4] + hex[uc & 15];
      }
      diags_.emit(DiagnosticKind::UnexpectedCharacter, rangeFrom(begin),
                  "unexpected character " + shown +
                      ", expected a token of the lace language");
      return false;
    }
    }
    pos_ += length;
    token.kind = kind;
    token.range = rangeFrom(begin);
    token.text = text_.substr(begin, length);
    return true;
  }

  bool lexNumber(Token &token) {
    std::size_t begin = pos_;
    while (isDigit(peek()))
      ++pos_;
    bool isFloat = false;
    if (peek() == '.' && isDigit(peek(1))) {
      isFloat = true;
      ++pos_;
      while (isDigit(peek()))
        ++pos_;
    }
    bool badExponent = false;
    if (peek() == 'e' || peek() == 'E') {
      isFloat = true;
      ++pos_;
      if (peek() == '+' || peek() == '-')
        ++pos_;
      if (!isDigit(peek()))
        badExponent = true;
      while (isDigit(peek()))
        ++pos_;
    }
    bool badSuffix = false;
    while (isIdentChar(peek())) {
      badSuffix = true;
      ++pos_;
    }
    token.range = rangeFrom(begin);
    token.text = text_.substr(begin, pos_ - begin);
    token.kind = isFloat ? TokenKind::FloatLiteral : TokenKind::IntLiteral;
    if (badExponent || badSuffix) {
      diags_.emit(DiagnosticKind::InvalidLiteral, token.range,
                  "invalid numeric literal '" + std::string(token.text) +
                      "', expected digits" +
                      (badExponent ? " after the exponent" : " only"));
      return true;
    }
    std::string spelling(token.text);
    if (isFloat) {
      errno = 0;
      double value = std::strtod(spelling.c_str(), nullptr);
      if (errno == ERANGE && value != 0.0) {
        diags_.emit(DiagnosticKind::LiteralTooLarge, token.range,
                    "float literal is too large, expected at most " +
                        std::to_string(FLT_MAX));
        return true;
      }
      if (std::fabs(value) > FLT_MAX) {
        diags_.emit(DiagnosticKind::LiteralTooLarge, token.range,
                    "float literal does not fit in a 32-bit float");
        return true;
      }
      token.floatValue = value;
      return true;
    }
    std::uint64_t value = 0;
    const std::uint64_t max = std::numeric_limits<std::int64_t>::max();
    for (char d : token.text) {
      std::uint64_t digit = static_cast<std::uint64_t>(d - '0');
      if (value > (max - digit) / 10) {
        diags_.emit(DiagnosticKind::LiteralTooLarge, token.range,
                    "integer literal is too large, expected at most "
                    "9223372036854775807");
        return true;
      }
      value = value * 10 + digit;
    }
    token.intValue = static_cast<std::int64_t>(value);
    return true;
  }

  bool lexString(Token &token) {
    std::size_t begin = pos_;
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\n')
      ++pos_;
    if (pos_ >= text_.size() || text_[pos_] != '"') {
      diags_.emit(DiagnosticKind::UnterminatedString, rangeFrom(begin),
                  "unterminated string literal, expected '\"' before the end "
                  "of the line");
      return false;
    }
    ++pos_;
    token.kind = TokenKind::StringLiteral;
    token.range = rangeFrom(begin);
    token.text = text_.substr(begin, pos_ - begin);
    token.stringValue = std::string(text_.substr(begin + 1, pos_ - begin - 2));
    return true;
  }

  FileId file_;
  std::string_view text_;
  DiagnosticEngine &diags_;
  std::size_t pos_ = 0;
};

} // namespace

std::vector<Token> lex(const SourceManager &sources, FileId file,
                       DiagnosticEngine &diags) {
  return Lexer(sources, file, diags).run();
}

} // namespace lace::frontend
