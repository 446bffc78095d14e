//===- KernelBundle.cpp - Plans saved for machines without the compiler ---===//
//
// Format (version 4: live bodies take a LiveMemo), one item per line:
//   lace-bundle 4
//   plans <n>
//   plan                          then, per plan, in this order:
//   <key> <value...>              scalars and int lists: "runs <count> v v v"
//   text <key> <bytes>            followed by exactly <bytes> bytes and "\n"
//   end
// Unknown keys are errors: a bundle is read only by the runtime of the same
// format version, and a silent skip would run a different kernel.
//
//===----------------------------------------------------------------------===//
#include "lace/Runtime/KernelBundle.h"

#include "lace/Runtime/AtomicFile.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unistd.h>

namespace lace {

namespace {

template <class T>
void writeList(std::string &out, const std::string &key,
               const std::vector<T> &values) {
  out += key;
  out += ' ';
  out += std::to_string(values.size());
  for (T v : values) {
    out += ' ';
    out += std::to_string(static_cast<long long>(v));
  }
  out += '\n';
}

void writeText(std::string &out, const std::string &key,
               const std::string &text) {
  out += "text " + key + " " + std::to_string(text.size()) + "\n";
  out += text;
  out += '\n';
}

void writeLine(std::string &out, const std::string &key,
               const std::string &value) {
  out += key + " " + value + "\n";
}

void writeTables(std::string &out, const std::string &prefix,
                 const LayoutTables &l) {
  writeLine(out, prefix + "layout_form",
            l.form == LayoutTables::Form::Runs ? "runs" : "bsr");
  writeLine(out, prefix + "layout_dims",
            std::to_string(l.numLayouts) + " " + std::to_string(l.numRows) +
                " " + std::to_string(l.numCols));
  writeList(out, prefix + "row_offsets", l.rowOffsets);
  writeList(out, prefix + "runs", l.runs);
  writeList(out, prefix + "bsr_row_ptr", l.bsrRowPtr);
  writeList(out, prefix + "bsr_col_idx", l.bsrColIdx);
  writeList(out, prefix + "bsr_is_full", l.bsrIsFull);
}

} // namespace

std::string writeBundle(const std::vector<BundledPlan> &plans) {
  std::string out = "lace-bundle " + std::to_string(kBundleVersion) + "\n";
  out += "plans " + std::to_string(plans.size()) + "\n";
  for (const BundledPlan &bundled : plans) {
    const KernelPlan &p = bundled.plan;
    const jit::TileConfig t = p.spec.resolvedTiles();
    const LayoutTables &l = p.layout;
    out += "plan\n";
    writeLine(out, "pattern", p.pattern);
    writeLine(
        out, "shape",
        std::to_string(p.shape.batch) + " " + std::to_string(p.shape.heads) +
            " " + std::to_string(p.shape.kvHeads) + " " +
            std::to_string(p.shape.seqQ) + " " + std::to_string(p.shape.seqK));
    writeLine(out, "dtype", std::string(jit::dtypeName(p.spec.dtype)));
    writeLine(out, "head_dim", std::to_string(p.spec.headDim));
    writeLine(out, "tiles",
              std::to_string(t.blockM) + " " + std::to_string(t.blockN) + " " +
                  std::to_string(t.warps) + " " + std::to_string(t.stages));
    writeLine(out, "kernel_name", p.spec.name);
    writeLine(out, "layout_seconds", std::to_string(p.layoutSeconds));
    writeLine(out, "uses_segments", p.usesSegments ? "1" : "0");
    writeList(out, "head_to_layout", l.headToLayout);
    writeTables(out, "", l);
    // The transposed layout (the backward's), "t_"-prefixed, when planned.
    if (p.transposed.numLayouts > 0)
      writeTables(out, "t_", p.transposed);
    const ScheduleTables &sched = p.schedule;
    writeLine(out, "schedule",
              std::to_string(sched.numCtas) + " " +
                  std::to_string(sched.numSlots) + " " +
                  std::to_string(sched.imbalance) + " " +
                  std::to_string(sched.imbalanceBeforeSplit) + " " +
                  std::to_string(sched.splitFactor));
    writeList(out, "cta_offsets", sched.ctaOffsets);
    writeList(out, "work_items", sched.items);
    writeList(out, "combines", sched.combines);
    for (const std::string &mask : p.runTimeMasks)
      writeText(out, "run_time_mask", mask);
    writeText(out, "kernel_ir", p.kernelIr);
    writeText(out, "live_expr", p.spec.liveExpr);
    writeText(out, "live_body", p.spec.liveBody);
    writeText(out, "score_expr", p.spec.scoreExpr);
    writeText(out, "score_body", p.spec.scoreBody);
    writeText(out, "score_grad_expr", p.spec.scoreGradExpr);
    writeText(out, "score_grad_body", p.spec.scoreGradBody);
    writeText(out, "helpers", p.spec.helpers);
    // For people and deployment checks; the runtime regenerates it from
    // the spec with its own templates.
    writeText(out, "cuda_source", jit::KernelSource::generate(p.spec));
    for (const BundleSource &source : bundled.sources) {
      writeText(out, "source_path", source.path);
      writeText(out, "source_text", source.text);
    }
    for (const auto &[name, value] : bundled.params) {
      writeText(out, "param_name", name);
      writeText(out, "param_value", value);
    }
    for (const auto &[key, value] : bundled.metadata) {
      writeText(out, "meta_key", key);
      writeText(out, "meta_value", value);
    }
    out += "end\n";
  }
  return out;
}

namespace {

class Reader {
public:
  Reader(std::string_view text, const std::string &name)
      : text_(text), name_(name) {}

  bool atEnd() const { return pos_ >= text_.size(); }

  /// The next line's words (without the newline).
  bool line(std::vector<std::string_view> &words) {
    if (atEnd())
      return fail("unexpected end of file");
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos)
      return fail("the last line has no newline (truncated?)");
    std::string_view content = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++lineNo_;
    words.clear();
    std::size_t i = 0;
    while (i < content.size()) {
      std::size_t j = content.find(' ', i);
      if (j == std::string_view::npos)
        j = content.size();
      if (j > i)
        words.push_back(content.substr(i, j - i));
      i = j + 1;
    }
    if (words.empty())
      return fail("empty line");
    return true;
  }

  /// `bytes` raw bytes and the newline after them.
  bool raw(std::size_t bytes, std::string &out) {
    if (pos_ + bytes + 1 > text_.size() || text_[pos_ + bytes] != '\n')
      return fail("a text block of " + std::to_string(bytes) +
                  " bytes runs past the end of the file (truncated?)");
    out.assign(text_.substr(pos_, bytes));
    for (char c : out)
      lineNo_ += c == '\n';
    pos_ += bytes + 1;
    ++lineNo_;
    return true;
  }

  template <class T> bool number(std::string_view word, T &value) {
    long long v = 0;
    auto [end, status] =
        std::from_chars(word.data(), word.data() + word.size(), v);
    if (status != std::errc() || end != word.data() + word.size())
      return fail("expected an integer, found '" + std::string(word) + "'");
    value = static_cast<T>(v);
    if (static_cast<long long>(value) != v)
      return fail("integer " + std::string(word) + " out of range");
    return true;
  }

  bool fail(const std::string &what) {
    if (error_.empty())
      error_ = name_ + ":" + std::to_string(lineNo_ + 1) + ": " + what;
    return false;
  }
  const std::string &error() const { return error_; }

private:
  std::string_view text_;
  std::string name_;
  std::size_t pos_ = 0;
  int lineNo_ = 0;
  std::string error_;
};

template <class T>
bool readList(Reader &r, const std::vector<std::string_view> &w,
              std::vector<T> &values) {
  std::size_t count = 0;
  if (w.size() < 2 || !r.number(w[1], count))
    return r.fail("expected '" + std::string(w[0]) + " <count> values...'");
  if (w.size() != count + 2)
    return r.fail(std::string(w[0]) + " announces " + std::to_string(count) +
                  " values and has " + std::to_string(w.size() - 2));
  values.resize(count);
  for (std::size_t i = 0; i < count; ++i)
    if (!r.number(w[i + 2], values[i]))
      return false;
  return true;
}

bool readPlan(Reader &r, BundledPlan &out) {
  KernelPlan &p = out.plan;
  std::vector<std::string_view> w;
  std::string pendingPath, pendingParam, pendingMeta;
  for (;;) {
    if (!r.line(w))
      return false;
    std::string_view key = w[0];
    if (key == "end") {
      if (p.transposed.numLayouts > 0)
        p.transposed.headToLayout = p.layout.headToLayout;
      return true;
    }
    // "t_" keys are the transposed layout's tables.
    LayoutTables &tables = key.starts_with("t_") ? p.transposed : p.layout;
    if (key.starts_with("t_"))
      key.remove_prefix(2);
    if (key == "pattern" && w.size() == 2) {
      p.pattern = w[1];
    } else if (key == "shape" && w.size() == 6) {
      if (!r.number(w[1], p.shape.batch) || !r.number(w[2], p.shape.heads) ||
          !r.number(w[3], p.shape.kvHeads) || !r.number(w[4], p.shape.seqQ) ||
          !r.number(w[5], p.shape.seqK))
        return false;
    } else if (key == "dtype" && w.size() == 2) {
      if (w[1] == "f16")
        p.spec.dtype = DType::F16;
      else if (w[1] == "bf16")
        p.spec.dtype = DType::BF16;
      else
        return r.fail("unknown dtype '" + std::string(w[1]) + "'");
    } else if (key == "head_dim" && w.size() == 2) {
      if (!r.number(w[1], p.spec.headDim))
        return false;
    } else if (key == "tiles" && w.size() == 5) {
      if (!r.number(w[1], p.spec.tiles.blockM) ||
          !r.number(w[2], p.spec.tiles.blockN) ||
          !r.number(w[3], p.spec.tiles.warps) ||
          !r.number(w[4], p.spec.tiles.stages))
        return false;
    } else if (key == "kernel_name" && w.size() == 2) {
      p.spec.name = w[1];
    } else if (key == "uses_segments" && w.size() == 2) {
      p.usesSegments = w[1] == "1";
    } else if (key == "schedule" && w.size() == 6) {
      if (!r.number(w[1], p.schedule.numCtas) ||
          !r.number(w[2], p.schedule.numSlots))
        return false;
      p.schedule.imbalance = std::strtod(std::string(w[3]).c_str(), nullptr);
      p.schedule.imbalanceBeforeSplit =
          std::strtod(std::string(w[4]).c_str(), nullptr);
      p.schedule.splitFactor = std::strtod(std::string(w[5]).c_str(), nullptr);
    } else if (key == "cta_offsets") {
      if (!readList(r, w, p.schedule.ctaOffsets))
        return false;
    } else if (key == "work_items") {
      if (!readList(r, w, p.schedule.items))
        return false;
    } else if (key == "combines") {
      if (!readList(r, w, p.schedule.combines))
        return false;
    } else if (key == "layout_seconds" && w.size() == 2) {
      p.layoutSeconds = std::strtod(std::string(w[1]).c_str(), nullptr);
    } else if (key == "layout_form" && w.size() == 2) {
      if (w[1] == "runs")
        tables.form = LayoutTables::Form::Runs;
      else if (w[1] == "bsr")
        tables.form = LayoutTables::Form::BSR;
      else
        return r.fail("unknown layout form '" + std::string(w[1]) + "'");
    } else if (key == "layout_dims" && w.size() == 4) {
      if (!r.number(w[1], tables.numLayouts) ||
          !r.number(w[2], tables.numRows) || !r.number(w[3], tables.numCols))
        return false;
    } else if (key == "head_to_layout" && &tables == &p.layout) {
      if (!readList(r, w, tables.headToLayout))
        return false;
    } else if (key == "row_offsets") {
      if (!readList(r, w, tables.rowOffsets))
        return false;
    } else if (key == "runs") {
      if (!readList(r, w, tables.runs))
        return false;
    } else if (key == "bsr_row_ptr") {
      if (!readList(r, w, tables.bsrRowPtr))
        return false;
    } else if (key == "bsr_col_idx") {
      if (!readList(r, w, tables.bsrColIdx))
        return false;
    } else if (key == "bsr_is_full") {
      if (!readList(r, w, tables.bsrIsFull))
        return false;
    } else if (key == "text" && w.size() == 3) {
      std::size_t bytes = 0;
      std::string text;
      if (!r.number(w[2], bytes) || !r.raw(bytes, text))
        return false;
      const std::string_view field = w[1];
      if (field == "kernel_ir")
        p.kernelIr = std::move(text);
      else if (field == "run_time_mask")
        p.runTimeMasks.push_back(std::move(text));
      else if (field == "live_expr")
        p.spec.liveExpr = std::move(text);
      else if (field == "live_body")
        p.spec.liveBody = std::move(text);
      else if (field == "score_expr")
        p.spec.scoreExpr = std::move(text);
      else if (field == "score_body")
        p.spec.scoreBody = std::move(text);
      else if (field == "score_grad_expr")
        p.spec.scoreGradExpr = std::move(text);
      else if (field == "score_grad_body")
        p.spec.scoreGradBody = std::move(text);
      else if (field == "helpers")
        p.spec.helpers = std::move(text);
      else if (field == "cuda_source")
        ; // informational: regenerated from the spec
      else if (field == "source_path")
        pendingPath = std::move(text);
      else if (field == "source_text")
        out.sources.push_back({std::move(pendingPath), std::move(text)});
      else if (field == "param_name")
        pendingParam = std::move(text);
      else if (field == "param_value")
        out.params.emplace_back(std::move(pendingParam), std::move(text));
      else if (field == "meta_key")
        pendingMeta = std::move(text);
      else if (field == "meta_value")
        out.metadata[std::move(pendingMeta)] = std::move(text);
      else
        return r.fail("unknown text block '" + std::string(field) + "'");
    } else {
      return r.fail("unexpected '" + std::string(key) + "' with " +
                    std::to_string(w.size() - 1) + " value(s)");
    }
  }
}

} // namespace

Expected<std::vector<BundledPlan>> readBundle(std::string_view text,
                                              const std::string &name) {
  Reader r(text, name);
  std::vector<std::string_view> w;
  int version = 0;
  if (!r.line(w) || w.size() != 2 || w[0] != "lace-bundle")
    return Error(name + " is not a Lace kernel bundle (no 'lace-bundle' "
                        "header)");
  if (!r.number(w[1], version))
    return Error(r.error());
  if (version != kBundleVersion)
    return Error(name + " is a version " + std::to_string(version) +
                 " bundle; this runtime reads version " +
                 std::to_string(kBundleVersion) +
                 " (regenerate it with the matching `lace compile`)");
  std::size_t count = 0;
  if (!r.line(w) || w.size() != 2 || w[0] != "plans" ||
      !r.number(w[1], count)) {
    r.fail("expected 'plans <count>'");
    return Error(r.error());
  }
  std::vector<BundledPlan> plans(count);
  for (BundledPlan &plan : plans) {
    if (!r.line(w) || w.size() != 1 || w[0] != "plan") {
      r.fail("expected 'plan'");
      return Error(r.error());
    }
    if (!readPlan(r, plan))
      return Error(r.error());
    if (std::string why = plan.plan.validate(); !why.empty())
      return Error(name + ": plan " + plan.plan.pattern +
                   " is inconsistent: " + why);
  }
  if (!r.atEnd())
    return Error(name + ": unexpected data after the last plan");
  return plans;
}

Expected<std::vector<BundledPlan>>
loadBundleFile(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Error("cannot open kernel bundle " + path.string());
  std::string text{std::istreambuf_iterator<char>(in), {}};
  return readBundle(text, path.string());
}

std::optional<Error> saveBundleFile(const std::filesystem::path &path,
                                    const std::vector<BundledPlan> &plans) {
  const std::string text = writeBundle(plans);
  if (auto error = writeFileAtomically(path, {text}))
    return error->withContext("writing kernel bundle " + path.string());
  return std::nullopt;
}

} // namespace lace
