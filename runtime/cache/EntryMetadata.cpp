//===- EntryMetadata.cpp - The metadata blob as a flat JSON object --------===//
//
// The blob is a single-level JSON object of strings and numbers, e.g.
//   {"kind":"cubin","arch":"sm_80","label":"causal","created_unix_ms":...,
//    "compile_ms":812.5}
// The reader accepts any flat object and ignores keys it does not know, so
// later versions may add fields without bumping the file format.
//
//===----------------------------------------------------------------------===//
#include "CacheFile.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace lace::cache_file {

namespace {

void appendString(std::string &out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char escape[8];
        std::snprintf(escape, sizeof escape, "\\u%04x",
                      static_cast<unsigned>(c));
        out += escape;
      } else {
        out += c;
      }
    }
  }
  out += '"';
}

/// A cursor over the blob; every method fails by returning false.
class Reader {
public:
  explicit Reader(std::string_view text) : text_(text) {}

  void skipSpace() {
    while (pos_ < text_.size() &&
           std::isspace(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
  }
  bool consume(char c) {
    skipSpace();
    if (pos_ >= text_.size() || text_[pos_] != c)
      return false;
    ++pos_;
    return true;
  }
  bool peek(char c) {
    skipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  bool atEnd() {
    skipSpace();
    return pos_ == text_.size();
  }

  bool readString(std::string &out) {
    if (!consume('"'))
      return false;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"')
        return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size())
        return false;
      char escaped = text_[pos_++];
      switch (escaped) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        unsigned code = 0;
        if (pos_ + 4 > text_.size() ||
            std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, code,
                            16)
                    .ptr != text_.data() + pos_ + 4)
          return false;
        pos_ += 4;
        out += code < 0x80 ? static_cast<char>(code) : '?';
        break;
      }
      default:
        out += escaped;
      }
    }
    return false;
  }

  /// A number, or the literals true/false/null (read as 1/0/0).
  bool readNumber(double &out) {
    skipSpace();
    std::size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
            text_[pos_] == '-' || text_[pos_] == '+' || text_[pos_] == '.'))
      ++pos_;
    std::string token(text_.substr(start, pos_ - start));
    if (token == "true" || token == "false" || token == "null") {
      out = token == "true";
      return true;
    }
    char *end = nullptr;
    out = std::strtod(token.c_str(), &end);
    return !token.empty() && end == token.c_str() + token.size();
  }

private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

} // namespace

std::string encodeMetadata(const EntryMetadata &metadata) {
  std::string out = "{\"kind\":";
  appendString(out, metadata.kind);
  out += ",\"arch\":";
  appendString(out, metadata.arch);
  out += ",\"label\":";
  appendString(out, metadata.label);
  out += ",\"created_unix_ms\":" + std::to_string(metadata.createdUnixMs);
  char compileMs[32];
  std::snprintf(compileMs, sizeof compileMs, "%.3f", metadata.compileMs);
  out += ",\"compile_ms\":";
  out += compileMs;
  out += "}";
  return out;
}

Expected<EntryMetadata> decodeMetadata(std::string_view json) {
  Error malformed("metadata is not a flat JSON object");
  Reader reader(json);
  EntryMetadata metadata;
  if (!reader.consume('{'))
    return malformed;
  bool first = true;
  while (!reader.consume('}')) {
    if (!first && !reader.consume(','))
      return malformed;
    first = false;
    std::string name;
    if (!reader.readString(name) || !reader.consume(':'))
      return malformed;
    if (reader.peek('"')) {
      std::string value;
      if (!reader.readString(value))
        return malformed;
      if (name == "kind")
        metadata.kind = std::move(value);
      else if (name == "arch")
        metadata.arch = std::move(value);
      else if (name == "label")
        metadata.label = std::move(value);
      continue;
    }
    double value = 0;
    if (!reader.readNumber(value))
      return malformed;
    if (name == "created_unix_ms")
      metadata.createdUnixMs = static_cast<std::int64_t>(value);
    else if (name == "compile_ms")
      metadata.compileMs = value;
  }
  if (!reader.atEnd())
    return malformed;
  return metadata;
}

} // namespace lace::cache_file
