//===- Parser.cpp ---------------------------------------------------------===//
//
// Grammar (see docs/language.md for the full EBNF):
//   file    = { import | pattern }
//   expr    = or [ '?' expr ':' expr ]
//   or = and {'||' and}; and = union {'&&' union}; union = inter {'|' inter}
//   inter = cmp {'&' cmp}; cmp = range {cmpop range | 'in' range}
//   range = add ['..' add]; add = mul {('+'|'-') mul}
//   mul = unary {('*'|'/'|'%') unary}; unary = ('!'|'-'|'~') unary | primary
//
//===----------------------------------------------------------------------===//
#include "lace/Frontend/Parser.h"

#include "lace/Frontend/Lexer.h"

#include <algorithm>

namespace lace::frontend {

namespace {

class Parser {
public:
  Parser(std::vector<Token> tokens, FileId file, DiagnosticEngine &diags)
      : tokens_(std::move(tokens)), diags_(diags) {
    result_.file = file;
  }

  ParsedFile run() {
    while (!at(TokenKind::Eof) && !diags_.stopped()) {
      if (at(TokenKind::KwImport)) {
        parseImport();
      } else if (at(TokenKind::KwPattern)) {
        parsePattern();
      } else {
        error(DiagnosticKind::ExpectedToken, current().range,
              "expected 'import' or 'pattern' at top level, found " +
                  describe(current()));
        bailing_ = false;
        // Skip to the next top-level keyword.
        advance();
        while (!at(TokenKind::Eof) && !at(TokenKind::KwImport) &&
               !at(TokenKind::KwPattern))
          advance();
      }
    }
    return std::move(result_);
  }

private:
  // --- Token helpers -------------------------------------------------------
  const Token &current() const { return tokens_[pos_]; }
  const Token &peekToken(std::size_t ahead) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  bool at(TokenKind kind) const { return current().kind == kind; }
  const Token &advance() {
    const Token &token = tokens_[pos_];
    if (pos_ + 1 < tokens_.size())
      ++pos_;
    return token;
  }
  bool consumeIf(TokenKind kind) {
    if (!at(kind))
      return false;
    advance();
    return true;
  }
  static std::string describe(const Token &token) {
    if (token.kind == TokenKind::Eof)
      return "end of file";
    std::string text(token.text.substr(0, 40));
    return "'" + text + "'";
  }

  void error(DiagnosticKind kind, SourceRange range, std::string message) {
    if (bailing_)
      return;
    bailing_ = true;
    if (currentPattern_)
      currentPattern_->parseErrors = true;
    diags_.emit(kind, range, std::move(message));
  }

  /// Expects `kind`; reports "expected X <context>, found Y" otherwise.
  bool expect(TokenKind kind, std::string_view context) {
    if (consumeIf(kind))
      return true;
    error(DiagnosticKind::ExpectedToken, current().range,
          "expected " + std::string(tokenKindDescription(kind)) + " " +
              std::string(context) + ", found " + describe(current()));
    return false;
  }

  // --- Top level -----------------------------------------------------------
  void parseImport() {
    advance();
    if (!at(TokenKind::StringLiteral)) {
      error(DiagnosticKind::ExpectedToken, current().range,
            "expected a file name string after 'import', found " +
                describe(current()));
      recoverTopLevel();
      return;
    }
    const Token &path = advance();
    result_.imports.push_back({path.stringValue, path.range});
    if (!expect(TokenKind::Semicolon, "after import"))
      recoverTopLevel();
  }

  void recoverTopLevel() {
    while (!at(TokenKind::Eof) && !at(TokenKind::KwImport) &&
           !at(TokenKind::KwPattern))
      advance();
    bailing_ = false;
  }

  void parsePattern() {
    auto pattern = std::make_unique<Pattern>();
    pattern->file = result_.file;
    currentPattern_ = pattern.get();
    SourceRange start = advance().range;
    if (at(TokenKind::Identifier)) {
      pattern->name = std::string(current().text);
      pattern->nameRange = current().range;
      advance();
    } else {
      pattern->nameRange = current().range;
      error(DiagnosticKind::ExpectedToken, current().range,
            "expected pattern name after 'pattern', found " +
                describe(current()));
    }
    if (!bailing_ && expect(TokenKind::LParen, "after pattern name"))
      parseParams(*pattern);
    if (bailing_) {
      // Resynchronize on the body, or give the pattern up.
      while (!at(TokenKind::Eof) && !at(TokenKind::LBrace) &&
             !at(TokenKind::KwPattern) && !at(TokenKind::KwImport))
        advance();
      bailing_ = false;
    }
    if (at(TokenKind::LBrace)) {
      advance();
      parseBody(*pattern);
    } else if (!pattern->parseErrors) {
      expect(TokenKind::LBrace, "to start the pattern body");
      bailing_ = false;
    }
    pattern->range = SourceRange::cover(start, previousRange());
    currentPattern_ = nullptr;
    result_.patterns.push_back(std::move(pattern));
  }

  SourceRange previousRange() const {
    return pos_ > 0 ? tokens_[pos_ - 1].range : current().range;
  }

  void parseParams(Pattern &pattern) {
    if (consumeIf(TokenKind::RParen))
      return;
    while (!bailing_) {
      Param param;
      if (!at(TokenKind::Identifier)) {
        error(DiagnosticKind::ExpectedToken, current().range,
              "expected parameter name, found " + describe(current()));
        return;
      }
      param.name = std::string(current().text);
      param.nameRange = current().range;
      advance();
      if (!expect(TokenKind::Colon, "after parameter name"))
        return;
      std::string_view typeText = current().text;
      if (at(TokenKind::Identifier) &&
          (typeText == "int" || typeText == "bool" || typeText == "float")) {
        param.type = typeText == "int"    ? ParamType::Int
                     : typeText == "bool" ? ParamType::Bool
                                          : ParamType::Float;
        advance();
      } else {
        error(DiagnosticKind::ExpectedToken, current().range,
              "expected 'int', 'bool' or 'float', found " +
                  describe(current()));
        return;
      }
      if (consumeIf(TokenKind::Assign))
        param.defaultValue = parseExpr();
      pattern.params.push_back(std::move(param));
      if (bailing_)
        return;
      if (consumeIf(TokenKind::RParen))
        return;
      if (!expect(TokenKind::Comma, "or ')' after parameter"))
        return;
      if (consumeIf(TokenKind::RParen))
        return;
    }
  }

  void parseBody(Pattern &pattern) {
    while (!at(TokenKind::RBrace) && !at(TokenKind::Eof) && !diags_.stopped()) {
      if (at(TokenKind::KwPattern) || at(TokenKind::KwImport)) {
        break;
      }
      parseStatement(pattern);
      if (bailing_) {
        while (!at(TokenKind::Eof) && !at(TokenKind::Semicolon) &&
               !at(TokenKind::RBrace) && !at(TokenKind::KwPattern))
          advance();
        consumeIf(TokenKind::Semicolon);
        bailing_ = false;
      }
    }
    expect(TokenKind::RBrace, "at the end of the pattern body");
    bailing_ = false;
  }

  void parseStatement(Pattern &pattern) {
    if (consumeIf(TokenKind::KwLet)) {
      Let let;
      if (!at(TokenKind::Identifier)) {
        error(DiagnosticKind::ExpectedToken, current().range,
              "expected a name after 'let', found " + describe(current()));
        return;
      }
      let.name = std::string(current().text);
      let.nameRange = current().range;
      advance();
      if (!expect(TokenKind::Assign, "after let name"))
        return;
      let.value = parseExpr();
      if (bailing_)
        return;
      pattern.lets.push_back(std::move(let));
      expect(TokenKind::Semicolon, "after let binding");
      return;
    }
    bool isMask = at(TokenKind::KwMask);
    if (isMask || at(TokenKind::KwScore)) {
      SourceRange keyword = advance().range;
      if (!expect(TokenKind::Assign, isMask ? "after 'mask'" : "after 'score'"))
        return;
      ExprPtr value = parseExpr();
      if (bailing_)
        return;
      if (!expect(TokenKind::Semicolon,
                  isMask ? "after mask statement" : "after score statement"))
        return;
      // Sema reports a second mask/score; keep the first one and remember
      // the second by its keyword range.
      ExprPtr &slot = isMask ? pattern.mask : pattern.score;
      if (!slot) {
        slot = std::move(value);
      } else {
        diags_
            .emit(isMask ? DiagnosticKind::MaskRedefined
                         : DiagnosticKind::ScoreRedefined,
                  SourceRange::cover(keyword, value->range),
                  isMask ? "mask is given twice, expected exactly one "
                           "'mask = ...;' statement"
                         : "score is given twice, expected at most one "
                           "'score = ...;' statement")
            .note(slot->range, "first definition here");
        pattern.parseErrors = true;
      }
      return;
    }
    error(DiagnosticKind::ExpectedToken, current().range,
          "expected 'let', 'mask' or 'score' statement, found " +
              describe(current()));
  }

  // --- Expressions ---------------------------------------------------------
  struct DepthGuard {
    Parser &parser;
    explicit DepthGuard(Parser &p) : parser(p) { ++parser.depth_; }
    ~DepthGuard() { --parser.depth_; }
  };

  bool tooDeep(SourceRange range) {
    if (depth_ <= kMaxNestingDepth)
      return false;
    error(DiagnosticKind::NestingTooDeep, range,
          "expression nests too deeply, expected at most " +
              std::to_string(kMaxNestingDepth) + " levels");
    return true;
  }

  ExprPtr makeError(SourceRange range) {
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::Error;
    e->range = range;
    return e;
  }

  /// Finishes a node with children: computes depth and range.
  ExprPtr finish(ExprPtr e) {
    unsigned depth = 0;
    for (const ExprPtr &child : e->operands)
      if (child)
        depth = std::max<unsigned>(depth, child->depth);
    for (const Argument &arg : e->args)
      if (arg.value)
        depth = std::max<unsigned>(depth, arg.value->depth);
    if (depth + 1 > kMaxNestingDepth) {
      error(DiagnosticKind::NestingTooDeep, e->range,
            "expression nests too deeply, expected at most " +
                std::to_string(kMaxNestingDepth) + " levels");
      return makeError(e->range);
    }
    e->depth = static_cast<std::uint16_t>(depth + 1);
    return e;
  }

  ExprPtr makeBinary(SyntaxOp op, ExprPtr lhs, ExprPtr rhs) {
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::Binary;
    e->syntaxOp = op;
    e->range = SourceRange::cover(lhs->range, rhs->range);
    e->operands.push_back(std::move(lhs));
    e->operands.push_back(std::move(rhs));
    return finish(std::move(e));
  }

  ExprPtr parseExpr() {
    DepthGuard guard(*this);
    if (bailing_)
      return makeError(current().range);
    if (tooDeep(current().range))
      return makeError(current().range);
    ExprPtr cond = parseOr();
    if (bailing_ || !at(TokenKind::Question))
      return cond;
    advance();
    ExprPtr thenExpr = parseExpr();
    if (bailing_)
      return thenExpr;
    if (!expect(TokenKind::Colon, "in conditional expression"))
      return makeError(current().range);
    ExprPtr elseExpr = parseExpr();
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::Conditional;
    e->range = SourceRange::cover(cond->range, elseExpr->range);
    e->operands.push_back(std::move(cond));
    e->operands.push_back(std::move(thenExpr));
    e->operands.push_back(std::move(elseExpr));
    return finish(std::move(e));
  }

  template <typename Next>
  ExprPtr
  parseLeftAssoc(Next next,
                 std::initializer_list<std::pair<TokenKind, SyntaxOp>> ops) {
    ExprPtr lhs = (this->*next)();
    while (!bailing_) {
      SyntaxOp found = SyntaxOp::None;
      for (auto [kind, op] : ops)
        if (at(kind))
          found = op;
      if (found == SyntaxOp::None)
        break;
      advance();
      ExprPtr rhs = (this->*next)();
      lhs = makeBinary(found, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  ExprPtr parseOr() {
    return parseLeftAssoc(&Parser::parseAnd,
                          {{TokenKind::PipePipe, SyntaxOp::PipePipe}});
  }
  ExprPtr parseAnd() {
    return parseLeftAssoc(&Parser::parseUnion,
                          {{TokenKind::AmpAmp, SyntaxOp::AndAnd}});
  }
  ExprPtr parseUnion() {
    return parseLeftAssoc(&Parser::parseIntersect,
                          {{TokenKind::Pipe, SyntaxOp::Pipe}});
  }
  ExprPtr parseIntersect() {
    return parseLeftAssoc(&Parser::parseComparison,
                          {{TokenKind::Amp, SyntaxOp::Amp}});
  }

  ExprPtr parseComparison() {
    ExprPtr lhs = parseRange();
    while (!bailing_) {
      if (at(TokenKind::KwIn)) {
        advance();
        ExprPtr rhs = parseRange();
        auto e = std::make_unique<Expr>();
        e->kind = ExprKind::In;
        e->range = SourceRange::cover(lhs->range, rhs->range);
        e->operands.push_back(std::move(lhs));
        e->operands.push_back(std::move(rhs));
        lhs = finish(std::move(e));
        continue;
      }
      SyntaxOp op = SyntaxOp::None;
      switch (current().kind) {
      case TokenKind::EqEq:
        op = SyntaxOp::EqEq;
        break;
      case TokenKind::NotEq:
        op = SyntaxOp::NotEq;
        break;
      case TokenKind::Less:
        op = SyntaxOp::Less;
        break;
      case TokenKind::LessEq:
        op = SyntaxOp::LessEq;
        break;
      case TokenKind::Greater:
        op = SyntaxOp::Greater;
        break;
      case TokenKind::GreaterEq:
        op = SyntaxOp::GreaterEq;
        break;
      default:
        break;
      }
      if (op == SyntaxOp::None)
        break;
      advance();
      ExprPtr rhs = parseRange();
      lhs = makeBinary(op, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  ExprPtr parseRange() {
    ExprPtr lhs = parseAdditive();
    if (bailing_ || !at(TokenKind::DotDot))
      return lhs;
    advance();
    ExprPtr rhs = parseAdditive();
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::Range;
    e->range = SourceRange::cover(lhs->range, rhs->range);
    e->operands.push_back(std::move(lhs));
    e->operands.push_back(std::move(rhs));
    return finish(std::move(e));
  }

  ExprPtr parseAdditive() {
    return parseLeftAssoc(&Parser::parseMultiplicative,
                          {{TokenKind::Plus, SyntaxOp::Plus},
                           {TokenKind::Minus, SyntaxOp::Minus}});
  }
  ExprPtr parseMultiplicative() {
    return parseLeftAssoc(&Parser::parseUnary,
                          {{TokenKind::Star, SyntaxOp::Star},
                           {TokenKind::Slash, SyntaxOp::Slash},
                           {TokenKind::Percent, SyntaxOp::Percent}});
  }

  ExprPtr parseUnary() {
    DepthGuard guard(*this);
    if (bailing_)
      return makeError(current().range);
    if (tooDeep(current().range))
      return makeError(current().range);
    SyntaxOp op = SyntaxOp::None;
    if (at(TokenKind::Bang))
      op = SyntaxOp::Bang;
    else if (at(TokenKind::Minus))
      op = SyntaxOp::Minus;
    else if (at(TokenKind::Tilde))
      op = SyntaxOp::Tilde;
    if (op == SyntaxOp::None)
      return parsePrimary();
    SourceRange opRange = advance().range;
    ExprPtr operand = parseUnary();
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::Unary;
    e->syntaxOp = op;
    e->range = SourceRange::cover(opRange, operand->range);
    e->operands.push_back(std::move(operand));
    return finish(std::move(e));
  }

  ExprPtr parsePrimary() {
    const Token &token = current();
    auto e = std::make_unique<Expr>();
    e->range = token.range;
    switch (token.kind) {
    case TokenKind::IntLiteral:
      e->kind = ExprKind::IntLiteral;
      e->intValue = token.intValue;
      advance();
      return e;
    case TokenKind::FloatLiteral:
      e->kind = ExprKind::FloatLiteral;
      e->floatValue = static_cast<float>(token.floatValue);
      advance();
      return e;
    case TokenKind::KwTrue:
    case TokenKind::KwFalse:
      e->kind = ExprKind::BoolLiteral;
      e->boolValue = token.kind == TokenKind::KwTrue;
      advance();
      return e;
    case TokenKind::Identifier: {
      e->name = std::string(token.text);
      e->nameRange = token.range;
      advance();
      if (!at(TokenKind::LParen)) {
        e->kind = ExprKind::Name;
        return e;
      }
      e->kind = ExprKind::Call;
      advance();
      parseArguments(*e);
      e->range = SourceRange::cover(e->range, previousRange());
      if (bailing_)
        return makeError(e->range);
      return finish(std::move(e));
    }
    case TokenKind::LParen: {
      advance();
      ExprPtr inner = parseExpr();
      if (bailing_)
        return inner;
      if (!expect(TokenKind::RParen, "to close '('"))
        return makeError(token.range);
      return inner;
    }
    case TokenKind::LBrace: {
      e->kind = ExprKind::Set;
      advance();
      while (!bailing_ && !at(TokenKind::RBrace)) {
        e->operands.push_back(parseExpr());
        if (bailing_ || !consumeIf(TokenKind::Comma))
          break;
      }
      if (bailing_)
        return makeError(e->range);
      if (!expect(TokenKind::RBrace, "to close the set"))
        return makeError(e->range);
      e->range = SourceRange::cover(e->range, previousRange());
      return finish(std::move(e));
    }
    default:
      error(DiagnosticKind::ExpectedExpression, token.range,
            "expected an expression, found " + describe(token));
      return makeError(token.range);
    }
  }

  void parseArguments(Expr &call) {
    while (!bailing_ && !at(TokenKind::RParen)) {
      Argument arg;
      if (at(TokenKind::Identifier) && peekToken(1).kind == TokenKind::Assign) {
        arg.name = std::string(current().text);
        arg.nameRange = current().range;
        advance();
        advance();
      }
      arg.value = parseExpr();
      call.args.push_back(std::move(arg));
      if (bailing_ || !consumeIf(TokenKind::Comma))
        break;
    }
    if (!bailing_)
      expect(TokenKind::RParen, "to close the argument list");
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  DiagnosticEngine &diags_;
  ParsedFile result_;
  Pattern *currentPattern_ = nullptr;
  unsigned depth_ = 0;
  /// Set after the first syntax error of a statement: parsing unwinds
  /// without further diagnostics, then recovery skips ahead.
  bool bailing_ = false;
};

} // namespace

ParsedFile parseFile(const SourceManager &sources, FileId file,
                     DiagnosticEngine &diags) {
  return Parser(lex(sources, file, diags), file, diags).run();
}

} // namespace lace::frontend
