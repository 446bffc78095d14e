//===- PatternBindings.cpp - lace._lace: patterns, plans, the reference ---===//
//
// The compiler half of the Python module: a .lace file or text, its
// parameters, a plan for one shape and what the plan says about itself (the
// layout as arrays, tiles by kind, field of view, the SVG picture), and the
// float64 reference the kernels are checked against.
//
//===----------------------------------------------------------------------===//
#include "Bindings.h"
#include "DLPack.h"
#include "Errors.h"
#include "Ids.h"

#include "lace/Compiler.h"
#include "lace/Layout/FieldOfView.h"
#include "lace/Layout/LayoutPicture.h"
#include "lace/Runtime/HostTensors.h"
#include "lace/Runtime/PlanTables.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>

namespace py = pybind11;

namespace lace::python {

namespace {

DType dtypeNamed(const std::string &name) {
  if (name == "float16" || name == "f16")
    return DType::F16;
  if (name == "bfloat16" || name == "bf16")
    return DType::BF16;
  raise("dtype '" + name + "': Lace kernels take float16 or bfloat16");
}

std::string elementName(DType dtype) {
  return dtype == DType::BF16 ? "bfloat16" : "float16";
}

layout::BlockLayout layoutAt(const KernelPlan &plan, int index) {
  if (index < 0 || index >= plan.layout.numLayouts)
    raise("layout " + std::to_string(index) +
          " is out of range (the plan has " +
          std::to_string(plan.layout.numLayouts) + ")");
  return blockLayout(plan.layout, index);
}

/// "0-3,6": the heads that read layout `index`.
std::string headsOf(const KernelPlan &plan, int index) {
  std::string text;
  const auto &map = plan.layout.headToLayout;
  for (std::size_t h = 0; h < map.size(); ++h) {
    if (map[h] != index)
      continue;
    std::size_t last = h;
    while (last + 1 < map.size() && map[last + 1] == index)
      ++last;
    text += (text.empty() ? "" : ",") + std::to_string(h);
    if (last > h)
      text += "-" + std::to_string(last);
    h = last;
  }
  return text;
}

template <typename T>
py::array_t<T> array(const std::vector<T> &values,
                     std::vector<py::ssize_t> shape) {
  py::array_t<T> out(shape);
  if (!values.empty())
    std::memcpy(out.mutable_data(), values.data(), values.size() * sizeof(T));
  return out;
}

std::vector<std::int32_t>
ids(const std::optional<std::vector<std::int64_t>> &values, const char *what) {
  return values ? int32Ids(*values, what) : std::vector<std::int32_t>{};
}

/// One [batch, seq, heads, head_dim] host tensor as 16-bit elements,
/// contiguous in that order.
std::vector<std::uint16_t> gather(const TensorView &view, DType dtype,
                                  bool headsFirst) {
  if (!view.onCpu())
    raise(view.name + " must be in host memory for the reference");
  expectType(view, elementTypeOf(dtype));
  const TensorRef t = tensorRef(view, headsFirst);
  std::vector<std::uint16_t> out;
  out.reserve(static_cast<std::size_t>(view.numElements()));
  const auto *base = static_cast<const std::uint16_t *>(t.data);
  for (std::int64_t b = 0; b < t.shape[0]; ++b)
    for (std::int64_t s = 0; s < t.shape[1]; ++s)
      for (std::int64_t h = 0; h < t.shape[2]; ++h)
        for (std::int64_t d = 0; d < t.shape[3]; ++d)
          out.push_back(base[b * t.strides[0] + s * t.strides[1] +
                             h * t.strides[2] + d * t.strides[3]]);
  return out;
}

/// The reference's inputs from q, k and v capsules.
AttentionInputs referenceInputs(py::handle q, py::handle k, py::handle v,
                                bool headsFirst,
                                const std::vector<std::int32_t> &qIds,
                                const std::vector<std::int32_t> &kIds) {
  TensorView qv = viewOf(q, "q"), kv = viewOf(k, "k"), vv = viewOf(v, "v");
  if (qv.type != ElementType::F16 && qv.type != ElementType::BF16)
    raise("q holds " + qv.typeName + "; expected float16 or bfloat16");
  AttentionInputs in;
  in.dtype = qv.type == ElementType::BF16 ? DType::BF16 : DType::F16;
  const TensorRef qt = tensorRef(qv, headsFirst),
                  kt = tensorRef(kv, headsFirst),
                  vt = tensorRef(vv, headsFirst);
  if (kt.shape != vt.shape)
    raise("k and v differ in shape");
  if (kt.shape[0] != qt.shape[0] || kt.shape[3] != qt.shape[3])
    raise("k's batch or head_dim differs from q's");
  in.shape = ProblemShape{qt.shape[0], qt.shape[2], kt.shape[2], qt.shape[1],
                          kt.shape[1]}
                 .resolved();
  if (std::string why = in.shape.validate(); !why.empty())
    raise(why);
  in.headDim = static_cast<int>(qt.shape[3]);
  in.q = gather(qv, in.dtype, headsFirst);
  in.k = gather(kv, in.dtype, headsFirst);
  in.v = gather(vv, in.dtype, headsFirst);
  in.segmentQ = qIds;
  in.segmentK = kIds;
  return in;
}

py::tuple referenceOutputs(const Compiler &compiler, py::handle q, py::handle k,
                           py::handle v, float scale, bool headsFirst,
                           const std::vector<std::int32_t> &qIds,
                           const std::vector<std::int32_t> &kIds) {
  AttentionInputs in = referenceInputs(q, k, v, headsFirst, qIds, kIds);
  ReferenceOutputs ref = [&] {
    py::gil_scoped_release release;
    return unwrap(compiler.reference(in, scale));
  }();
  const auto &s = in.shape;
  return py::make_tuple(array(ref.o, {s.batch, s.seqQ, s.heads, in.headDim}),
                        array(ref.lse, {s.batch, s.heads, s.seqQ}));
}

py::tuple referenceGradients(const Compiler &compiler, py::handle q,
                             py::handle k, py::handle v, py::handle dout,
                             float scale, bool headsFirst,
                             const std::vector<std::int32_t> &qIds,
                             const std::vector<std::int32_t> &kIds) {
  AttentionInputs in = referenceInputs(q, k, v, headsFirst, qIds, kIds);
  TensorView dv = viewOf(dout, "dout");
  const TensorRef dt = tensorRef(dv, headsFirst);
  if (dt.shape != std::array<std::int64_t, 4>{in.shape.batch, in.shape.seqQ,
                                              in.shape.heads, in.headDim})
    raise("dout must have q's shape");
  std::vector<std::uint16_t> dO = gather(dv, in.dtype, headsFirst);
  ReferenceGradients g = [&] {
    py::gil_scoped_release release;
    return unwrap(compiler.referenceBackward(in, dO, scale));
  }();
  const auto &s = in.shape;
  return py::make_tuple(array(g.dq, {s.batch, s.seqQ, s.heads, in.headDim}),
                        array(g.dk, {s.batch, s.seqK, s.kvHeads, in.headDim}),
                        array(g.dv, {s.batch, s.seqK, s.kvHeads, in.headDim}));
}

} // namespace

void bindPatterns(py::module_ &m) {
  py::class_<KernelPlan>(m, "Plan")
      .def_readonly("pattern", &KernelPlan::pattern)
      .def_property_readonly(
          "dtype",
          [](const KernelPlan &p) { return elementName(p.spec.dtype); })
      .def_property_readonly("head_dim",
                             [](const KernelPlan &p) { return p.spec.headDim; })
      .def_property_readonly("tiles",
                             [](const KernelPlan &p) {
                               const jit::TileConfig t = p.spec.resolvedTiles();
                               py::dict d;
                               d["block_m"] = t.blockM;
                               d["block_n"] = t.blockN;
                               d["warps"] = t.warps;
                               d["stages"] = t.stages;
                               return d;
                             })
      .def_property_readonly("shape",
                             [](const KernelPlan &p) {
                               py::dict d;
                               d["batch"] = p.shape.batch;
                               d["heads"] = p.shape.heads;
                               d["kv_heads"] = p.shape.kvHeads;
                               d["seq_q"] = p.shape.seqQ;
                               d["seq_k"] = p.shape.seqK;
                               return d;
                             })
      .def_readonly("uses_segments", &KernelPlan::usesSegments)
      .def_readonly("layout_seconds", &KernelPlan::layoutSeconds)
      .def_property_readonly(
          "computed_flops",
          [](const KernelPlan &p) { return p.computedFlops(); })
      .def_property_readonly("dense_flops", &KernelPlan::denseFlops)
      .def_property_readonly(
          "num_layouts",
          [](const KernelPlan &p) { return p.layout.numLayouts; })
      .def_property_readonly("grid",
                             [](const KernelPlan &p) {
                               return py::make_tuple(p.layout.numRows,
                                                     p.layout.numCols);
                             })
      .def_property_readonly(
          "head_to_layout",
          [](const KernelPlan &p) { return p.layout.headToLayout; })
      .def("heads_of", &headsOf)
      .def("block_kinds",
           [](const KernelPlan &p, int index) {
             const layout::BlockLayout l = layoutAt(p, index);
             py::array_t<std::uint8_t> kinds({l.numRows, l.numCols});
             auto out = kinds.mutable_unchecked<2>();
             for (std::int64_t r = 0; r < l.numRows; ++r)
               for (std::int64_t c = 0; c < l.numCols; ++c)
                 out(r, c) = static_cast<std::uint8_t>(l.kind(r, c));
             return kinds;
           })
      .def("bsr",
           [](const KernelPlan &p, int index) {
             const layout::BSR b = layoutAt(p, index).toBSR();
             return py::make_tuple(
                 array(b.rowPtr, {static_cast<py::ssize_t>(b.rowPtr.size())}),
                 array(b.colIdx, {static_cast<py::ssize_t>(b.colIdx.size())}),
                 array(b.isFull, {static_cast<py::ssize_t>(b.isFull.size())}));
           })
      .def("tile_counts",
           [](const KernelPlan &p, int index) {
             const layout::BlockLayout l = layoutAt(p, index);
             py::dict d;
             d["full"] = l.numBlocks(layout::BlockKind::Full);
             d["partial"] = l.numBlocks(layout::BlockKind::Partial);
             d["empty"] = l.numBlocks(layout::BlockKind::Empty);
             return d;
           })
      .def("field_of_view",
           [](const KernelPlan &p, int index) -> py::object {
             const layout::FieldOfView view =
                 layout::fieldOfView(layoutAt(p, index));
             if (!view.valid) {
               const jit::TileConfig t = p.spec.resolvedTiles();
               raise("the field of view needs a square tile grid (seq_q == "
                     "seq_k and block_m == block_n); this plan's tiles are " +
                     std::to_string(t.blockM) + " x " +
                     std::to_string(t.blockN));
             }
             if (!view.reachable)
               return py::none();
             return py::int_(view.layers);
           })
      .def("svg",
           [](const KernelPlan &p) {
             std::vector<layout::BlockLayout> layouts;
             for (int i = 0; i < p.layout.numLayouts; ++i)
               layouts.push_back(blockLayout(p.layout, i));
             std::vector<layout::LayoutPanel> panels;
             for (int i = 0; i < p.layout.numLayouts; ++i)
               panels.push_back(
                   {"heads " + headsOf(p, i), &layouts[std::size_t(i)]});
             return layout::renderSvg(panels);
           })
      .def_property_readonly("schedule",
                             [](const KernelPlan &p) {
                               py::dict d;
                               d["ctas"] = p.schedule.numCtas;
                               d["items"] = p.schedule.numItems();
                               d["split_rows"] = p.schedule.numCombines();
                               d["imbalance"] = p.schedule.imbalance;
                               d["imbalance_before_split"] =
                                   p.schedule.imbalanceBeforeSplit;
                               return d;
                             })
      .def(
          "cuda_source",
          [](const KernelPlan &p, bool backward) {
            return jit::KernelSource::generate(
                p.spec, backward ? jit::Pass::Backward : jit::Pass::Forward);
          },
          py::arg("backward") = false);

  py::class_<Compiler>(m, "Compiler")
      .def_static("from_file",
                  [](const std::string &path) {
                    return unwrap(Compiler::fromFile(path));
                  })
      .def_static("from_source",
                  [](const std::string &name, std::string text) {
                    return unwrap(Compiler::fromSource(name, std::move(text)));
                  })
      .def("patterns", &Compiler::patterns)
      .def("select",
           [](Compiler &c, const std::string &name) { check(c.select(name)); })
      .def_property_readonly("selected", &Compiler::selected)
      .def("set_param", &Compiler::setParam)
      .def(
          "plan",
          [](const Compiler &c, std::int64_t batch, std::int64_t heads,
             std::int64_t kvHeads, std::int64_t seqQ, std::int64_t seqK,
             const std::string &dtype, int headDim, int blockM, int blockN,
             int warps, int stages, int ctas, double splitFactor) {
            PlanOptions options;
            options.dtype = dtypeNamed(dtype);
            options.headDim = headDim;
            options.tiles = {blockM, blockN, warps, stages};
            options.numCtas = ctas;
            options.splitFactor = splitFactor;
            const ProblemShape shape{batch, heads, kvHeads, seqQ, seqK};
            py::gil_scoped_release release;
            return unwrap(c.plan(shape, options));
          },
          py::arg("batch"), py::arg("heads"), py::arg("kv_heads"),
          py::arg("seq_q"), py::arg("seq_k"), py::arg("dtype"),
          py::arg("head_dim"), py::arg("block_m"), py::arg("block_n"),
          py::arg("warps"), py::arg("stages"), py::arg("ctas"),
          py::arg("split_factor"))
      .def(
          "mask",
          [](const Compiler &c, std::int64_t batch, std::int64_t heads,
             std::int64_t seqQ, std::int64_t seqK,
             const std::optional<std::vector<std::int64_t>> &qIds,
             const std::optional<std::vector<std::int64_t>> &kIds) {
            const std::vector<std::int32_t> q = ids(qIds, "segment ids"),
                                            k = ids(kIds, "segment ids");
            const ProblemShape shape =
                ProblemShape{batch, heads, 0, seqQ, seqK}.resolved();
            std::vector<std::uint8_t> live = [&] {
              py::gil_scoped_release release;
              return unwrap(c.mask(shape, q, k));
            }();
            return array(live,
                         {shape.batch, shape.heads, shape.seqQ, shape.seqK});
          },
          py::arg("batch"), py::arg("heads"), py::arg("seq_q"),
          py::arg("seq_k"), py::arg("q_ids"), py::arg("k_ids"))
      .def(
          "reference",
          [](const Compiler &c, py::handle q, py::handle k, py::handle v,
             float scale, bool headsFirst,
             const std::optional<std::vector<std::int64_t>> &qIds,
             const std::optional<std::vector<std::int64_t>> &kIds) {
            return referenceOutputs(c, q, k, v, scale, headsFirst,
                                    ids(qIds, "segment ids"),
                                    ids(kIds, "segment ids"));
          },
          py::arg("q"), py::arg("k"), py::arg("v"), py::arg("scale"),
          py::arg("heads_first"), py::arg("q_ids"), py::arg("k_ids"))
      .def(
          "reference_backward",
          [](const Compiler &c, py::handle q, py::handle k, py::handle v,
             py::handle dout, float scale, bool headsFirst,
             const std::optional<std::vector<std::int64_t>> &qIds,
             const std::optional<std::vector<std::int64_t>> &kIds) {
            return referenceGradients(c, q, k, v, dout, scale, headsFirst,
                                      ids(qIds, "segment ids"),
                                      ids(kIds, "segment ids"));
          },
          py::arg("q"), py::arg("k"), py::arg("v"), py::arg("dout"),
          py::arg("scale"), py::arg("heads_first"), py::arg("q_ids"),
          py::arg("k_ids"));
}

} // namespace lace::python
