//===- MaskText.cpp - Printing and parsing mask trees ---------------------===//
#include "lace/Layout/MaskText.h"

#include "lace/Layout/PredicateProgram.h"

#include <charconv>
#include <optional>
#include <type_traits>
#include <vector>

namespace lace::layout {

namespace {

using Kind = MaskNode::Kind;

struct Name {
  Kind kind;
  const char *text;
};
constexpr Name kNames[] = {
    {Kind::Full, "full"},
    {Kind::Empty, "empty"},
    {Kind::Causal, "causal"},
    {Kind::Local, "local"},
    {Kind::Dilated, "dilated"},
    {Kind::Strided, "strided"},
    {Kind::Fixed, "fixed"},
    {Kind::Global, "global"},
    {Kind::Random, "random"},
    {Kind::Prefix, "prefix"},
    {Kind::Segment, "segment"},
    {Kind::Predicate, "predicate"},
    {Kind::Union, "union"},
    {Kind::Intersect, "intersect"},
    {Kind::Difference, "difference"},
    {Kind::Complement, "complement"},
};

const char *nameOf(Kind kind) {
  for (const Name &n : kNames)
    if (n.kind == kind)
      return n.text;
  return "?";
}

class Printer {
public:
  bool print(const MaskNode &n) {
    switch (n.kind) {
    case Kind::Full:
    case Kind::Empty:
    case Kind::Causal:
    case Kind::Segment:
      out += nameOf(n.kind);
      return true;
    case Kind::Local:
      return numbers(n.kind, {n.before, n.after, n.granularity});
    case Kind::Dilated:
      return numbers(n.kind, {n.before, n.after, n.dilation});
    case Kind::Strided:
      return numbers(n.kind, {n.length});
    case Kind::Fixed:
      return numbers(n.kind, {n.length, n.summary});
    case Kind::Prefix:
      return numbers(n.kind, {n.length});
    case Kind::Random:
      out += "(random " + std::to_string(n.perRow) + " " +
             std::to_string(n.granularity) + " " + std::to_string(n.seed) +
             " " + std::to_string(n.head) + " " + std::to_string(n.seqK) + ")";
      return true;
    case Kind::Global: {
      out += "(global ";
      list(n.tokens);
      std::vector<std::int64_t> bounds;
      for (const auto &[lo, hi] : n.ranges)
        bounds.insert(bounds.end(), {lo, hi});
      out += " ";
      list(bounds);
      out += ")";
      return true;
    }
    case Kind::Predicate: {
      if (!n.program)
        return false;
      const PredicateProgram &p = *n.program;
      out += "(predicate " + std::to_string(p.result) + " ";
      list(p.initial);
      std::vector<std::int64_t> code;
      for (const Instruction &in : p.code)
        code.insert(code.end(), {std::int64_t(in.code), in.isBool ? 1 : 0,
                                 in.dst, in.a, in.b, in.c});
      out += " ";
      list(code);
      out += ")";
      return true;
    }
    case Kind::Union:
    case Kind::Intersect:
    case Kind::Difference:
    case Kind::Complement:
      out += "(";
      out += nameOf(n.kind);
      for (const auto &child : n.children) {
        out += " ";
        if (!print(*child))
          return false;
      }
      out += ")";
      return true;
    }
    return false;
  }
  std::string out;

private:
  bool numbers(Kind kind, std::initializer_list<std::int64_t> values) {
    out += "(";
    out += nameOf(kind);
    for (std::int64_t v : values)
      out += " " + std::to_string(v);
    out += ")";
    return true;
  }
  void list(const std::vector<std::int64_t> &values) {
    out += "[";
    for (std::size_t i = 0; i < values.size(); ++i)
      out += (i ? " " : "") + std::to_string(values[i]);
    out += "]";
  }
};

class Parser {
public:
  explicit Parser(std::string_view text) : text_(text) {}

  ParsedMask run() {
    ParsedMask result;
    std::unique_ptr<MaskNode> mask = node();
    skipSpace();
    if (mask && pos_ != text_.size())
      fail("text after the mask");
    if (!error_.empty()) {
      result.error = "offset " + std::to_string(errorAt_) + ": " + error_;
      return result;
    }
    result.mask = std::move(mask);
    return result;
  }

private:
  void skipSpace() {
    while (pos_ < text_.size() && text_[pos_] == ' ')
      ++pos_;
  }
  std::nullptr_t fail(std::string what) {
    if (error_.empty()) {
      error_ = std::move(what);
      errorAt_ = pos_;
    }
    return nullptr;
  }
  bool eat(char c) {
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    fail(std::string("expected '") + c + "'");
    return false;
  }
  std::string_view word() {
    skipSpace();
    std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= 'a' && text_[pos_] <= 'z')
      ++pos_;
    return text_.substr(start, pos_ - start);
  }
  template <class T> std::optional<T> number() {
    skipSpace();
    T value{};
    auto [end, ec] = std::from_chars(text_.data() + pos_,
                                     text_.data() + text_.size(), value);
    if (ec != std::errc()) {
      fail("expected a number");
      return std::nullopt;
    }
    pos_ = static_cast<std::size_t>(end - text_.data());
    // Bounded far below what the classifier's arithmetic can take (seeds
    // are any 64-bit value).
    if constexpr (std::is_signed_v<T>)
      if (value > kLargest || value < -kLargest) {
        fail("a number beyond 2^40");
        return std::nullopt;
      }
    return value;
  }
  static constexpr std::int64_t kLargest = std::int64_t{1} << 40;
  std::optional<std::vector<std::int64_t>> list() {
    if (!eat('['))
      return std::nullopt;
    std::vector<std::int64_t> values;
    for (skipSpace(); pos_ < text_.size() && text_[pos_] != ']'; skipSpace()) {
      std::optional<std::int64_t> v = number<std::int64_t>();
      if (!v)
        return std::nullopt;
      values.push_back(*v);
    }
    if (!eat(']'))
      return std::nullopt;
    return values;
  }
  /// `count` numbers, each at least `least`.
  std::optional<std::vector<std::int64_t>> numbers(int count,
                                                   std::int64_t least) {
    std::vector<std::int64_t> values;
    for (int i = 0; i < count; ++i) {
      std::optional<std::int64_t> v = number<std::int64_t>();
      if (!v)
        return std::nullopt;
      if (*v < least) {
        fail("expected a number >= " + std::to_string(least));
        return std::nullopt;
      }
      values.push_back(*v);
    }
    return values;
  }

  std::unique_ptr<MaskNode> node() {
    if (++depth_ > 256)
      return fail("the mask is nested too deeply");
    skipSpace();
    const bool open = pos_ < text_.size() && text_[pos_] == '(';
    if (open)
      ++pos_;
    const std::string_view name = word();
    std::unique_ptr<MaskNode> n = open ? inner(name) : leaf(name);
    if (n && open && !eat(')'))
      return nullptr;
    --depth_;
    return n;
  }
  std::unique_ptr<MaskNode> leaf(std::string_view name) {
    if (name == "full")
      return MaskNode::full();
    if (name == "empty")
      return MaskNode::empty();
    if (name == "causal")
      return MaskNode::causal();
    if (name == "segment")
      return MaskNode::segment();
    return fail("expected a mask, got '" + std::string(name) + "'");
  }
  std::unique_ptr<MaskNode> inner(std::string_view name) {
    if (name == "local" || name == "dilated") {
      std::optional<std::vector<std::int64_t>> v = numbers(3, 0);
      if (!v)
        return nullptr;
      if ((*v)[2] < 1)
        return fail("expected a granularity or dilation >= 1");
      return name == "local" ? MaskNode::local((*v)[0], (*v)[1], (*v)[2])
                             : MaskNode::dilated((*v)[0], (*v)[1], (*v)[2]);
    }
    if (name == "strided" || name == "prefix") {
      std::optional<std::vector<std::int64_t>> v =
          numbers(1, name == "strided" ? 1 : 0);
      if (!v)
        return nullptr;
      return name == "strided" ? MaskNode::strided((*v)[0])
                               : MaskNode::prefix((*v)[0]);
    }
    if (name == "fixed") {
      std::optional<std::vector<std::int64_t>> v = numbers(2, 0);
      if (!v)
        return nullptr;
      if ((*v)[0] < 1)
        return fail("expected a stride >= 1");
      return MaskNode::fixed((*v)[0], (*v)[1]);
    }
    if (name == "random") {
      std::optional<std::vector<std::int64_t>> a = numbers(2, 0);
      std::optional<std::uint64_t> seed =
          a ? number<std::uint64_t>() : std::nullopt;
      std::optional<std::vector<std::int64_t>> b =
          seed ? numbers(2, 0) : std::nullopt;
      if (!b)
        return nullptr;
      if ((*a)[1] < 1 || (*b)[1] < 1)
        return fail("expected a granularity and seq_k >= 1");
      return MaskNode::random((*a)[0], (*a)[1], *seed, (*b)[0], (*b)[1]);
    }
    if (name == "global") {
      std::optional<std::vector<std::int64_t>> tokens = list();
      std::optional<std::vector<std::int64_t>> bounds =
          tokens ? list() : std::nullopt;
      if (!bounds)
        return nullptr;
      if (bounds->size() % 2)
        return fail("expected global ranges as lo hi pairs");
      std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
      for (std::size_t i = 0; i < bounds->size(); i += 2)
        ranges.push_back({(*bounds)[i], (*bounds)[i + 1]});
      return MaskNode::global(std::move(*tokens), std::move(ranges));
    }
    if (name == "predicate")
      return predicate();
    const Kind kind = name == "union"        ? Kind::Union
                      : name == "intersect"  ? Kind::Intersect
                      : name == "difference" ? Kind::Difference
                      : name == "complement" ? Kind::Complement
                                             : Kind::Full;
    if (kind == Kind::Full)
      return fail("unknown mask '" + std::string(name) + "'");
    std::unique_ptr<MaskNode> a = node();
    if (!a)
      return nullptr;
    if (kind == Kind::Complement)
      return MaskNode::complement(std::move(a));
    std::unique_ptr<MaskNode> b = node();
    if (!b)
      return nullptr;
    return kind == Kind::Union ? MaskNode::unite(std::move(a), std::move(b))
           : kind == Kind::Intersect
               ? MaskNode::intersect(std::move(a), std::move(b))
               : MaskNode::difference(std::move(a), std::move(b));
  }
  std::unique_ptr<MaskNode> predicate() {
    std::optional<std::int64_t> result = number<std::int64_t>();
    std::optional<std::vector<std::int64_t>> initial =
        result ? list() : std::nullopt;
    std::optional<std::vector<std::int64_t>> code =
        initial ? list() : std::nullopt;
    if (!code)
      return nullptr;
    if (code->size() % 6 || *result < 0)
      return fail("expected a predicate's code as groups of six numbers");
    auto program = std::make_shared<PredicateProgram>();
    program->initial = std::move(*initial);
    program->result = static_cast<unsigned>(*result);
    for (std::size_t i = 0; i < code->size(); i += 6) {
      for (std::size_t j = i; j < i + 6; ++j)
        if ((*code)[j] < 0 || (*code)[j] > (1 << 30))
          return fail("a predicate instruction field is out of range");
      Instruction in;
      in.code = static_cast<Instruction::Code>((*code)[i]);
      in.isBool = (*code)[i + 1] != 0;
      in.dst = static_cast<unsigned>((*code)[i + 2]);
      in.a = static_cast<unsigned>((*code)[i + 3]);
      in.b = static_cast<unsigned>((*code)[i + 4]);
      in.c = static_cast<unsigned>((*code)[i + 5]);
      if (unsigned((*code)[i]) >= Instruction::kNumCodes)
        return fail("unknown predicate instruction");
      program->code.push_back(in);
    }
    if (std::string why = program->validate(); !why.empty())
      return fail("bad predicate: " + why);
    return predicateNode(std::move(program));
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::string error_;
  std::size_t errorAt_ = 0;
};

} // namespace

std::string printMask(const MaskNode &mask) {
  Printer printer;
  return printer.print(mask) ? printer.out : std::string();
}

ParsedMask parseMask(std::string_view text) { return Parser(text).run(); }

bool hasSegment(const MaskNode &mask) {
  if (mask.kind == Kind::Segment)
    return true;
  for (const auto &child : mask.children)
    if (hasSegment(*child))
      return true;
  return false;
}

} // namespace lace::layout
