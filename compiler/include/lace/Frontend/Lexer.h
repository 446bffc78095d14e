//===- Lexer.h - Tokens of the .lace language -----------------------------===//
#ifndef LACE_FRONTEND_LEXER_H
#define LACE_FRONTEND_LEXER_H

#include "lace/Frontend/Diagnostics.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lace::frontend {

enum class TokenKind : std::uint8_t {
  Eof,
  Identifier,
  IntLiteral,
  FloatLiteral,
  StringLiteral,
  // Keywords.
  KwImport,
  KwPattern,
  KwLet,
  KwMask,
  KwScore,
  KwTrue,
  KwFalse,
  KwIn,
  // Punctuation.
  LParen,
  RParen,
  LBrace,
  RBrace,
  Comma,
  Semicolon,
  Colon,
  Question,
  Assign,
  EqEq,
  NotEq,
  Less,
  LessEq,
  Greater,
  GreaterEq,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Bang,
  Tilde,
  Amp,
  AmpAmp,
  Pipe,
  PipePipe,
  DotDot,
};

struct Token {
  TokenKind kind = TokenKind::Eof;
  SourceRange range;
  std::string_view text;     ///< spelling in the source
  std::int64_t intValue = 0; ///< IntLiteral (0 after a literal diagnostic)
  double floatValue = 0;     ///< FloatLiteral
  std::string stringValue;   ///< StringLiteral, without quotes
};

/// "';'", "identifier", "end of file": how messages name a token kind.
std::string_view tokenKindDescription(TokenKind kind);

/// Lexes a whole file. Always ends with an Eof token; lexical errors are
/// reported and the offending characters skipped.
std::vector<Token> lex(const SourceManager &sources, FileId file,
                       DiagnosticEngine &diags);

} // namespace lace::frontend

#endif // LACE_FRONTEND_LEXER_H
