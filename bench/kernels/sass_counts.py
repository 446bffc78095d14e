#!/usr/bin/env python3
"""Static SASS instruction counts of the forward kernel's k-tile loop.

For every pattern x head dim x architecture, compiles the forward kernel with
`lace compile --emit=cubin --verbose`, disassembles the main (persistent)
forward entry, finds its loop over k-tiles and reports, per kernel:

  * ptxas's registers, stack and spill bytes (from --verbose),
  * the loop body's static instruction count and a breakdown by class,
  * the mask region: the instructions a Full tile, a Partial tile and the
    clipped last k-tile execute there, and the resulting per-tile counts.

Static evidence only: no GPU runs, no timing. Python 3 standard library only.

Method
------
1. Disassembly. `nvdisasm -c` of the cubin (or, without nvdisasm,
   `cuobjdump -sass`). Function boundaries come from the cubin's ELF symbol
   table (every STT_FUNC symbol starts a function that runs to the next
   symbol of its section), so ptxas subroutines (e.g. a pattern helper that
   was not inlined, __cuda_sm20_rem_u64) are separate functions. The main
   kernel is the global function whose name does not end in `_combine` and
   that holds HMMA instructions (override with --kernel).
2. Basic blocks. A block starts at the function entry, at every local branch
   target and after every control transfer. Control transfers: BRA, BRX, JMP,
   JMX, RET, EXIT and CALL whose target is a local label rather than a
   function symbol (ptxas writes loop exits as `@P CALL.REL.NOINC label`).
   A transfer is conditional (the block also falls through) when it has a
   guard predicate other than @PT, a predicate operand (`BRA P2, target`) or
   a .DIV/.CONV modifier. A CALL to a function symbol is a subroutine call:
   it does not end the block and its callee is not part of the loop.
3. The k-tile loop. Dominators over the blocks reachable from the entry;
   natural loops from back edges (u -> h with h dominating u), merged per
   header. The k-tile loop is the innermost natural loop that contains
   HMMA (with `#pragma unroll` the S = QK^T and O += PV MMAs are
   straight-line inside it); the persistent loop over work items encloses
   it. Its body (every block of the natural loop, wherever ptxas placed it,
   inner loops such as the tile cursor's included) is "the loop".
4. The mask region. From the first block of the loop holding HMMA, follow
   single-successor edges to the first block B that branches. That branch
   is the mask dispatch of attention_fwd_item (`if kind == Partial ... else
   if clipped last column ...`). J is B's immediate post-dominator inside
   the loop (edges back to the header and out of the loop go to one virtual
   exit); J holds the softmax and the PV MMAs. The region is every block
   reachable from B before J. Within it:
     - full path: the cheapest path B -> J (fewest instructions; Dijkstra).
       A Full tile executes exactly the tests on it,
     - partial side: the blocks reachable from B's successor that is not on
       the full path. In source order the first test is `kind == Partial`,
       so this is mask_tile<..., true> (Pattern::live per element),
     - clipped side: the rest of the region (mask_tile<..., false>, keys
       >= seq_k only, hanging off the full path's second test). It is the
       same source for every pattern of one head dim and arch; the report
       warns when its size differs between patterns by more than ptxas'
       hoisting explains (CLIPPED_TOLERANCE).
   The S / PV split of the HMMAs: those from the first HMMA block to B
   versus the rest of the loop. Expected per warp per k-tile (m16n8k16):
   S = mtiles*(block_n/8)*(d/16), PV = mtiles*(d/8)*(block_n/16) with
   mtiles = block_m/warps/16, the tiles read from LaceTraits in the
   kernel's generated source (`lace compile --emit=cuda`).
5. Per-tile counts.
     common       = loop - region (everything outside the mask region),
     full tile    = common + full path,
     partial tile = common + partial side,
     partial/full = their ratio,
     vs dense     = full tile - dense's full tile at the same head dim and
                    arch (pattern code leaking into the full path, or just
                    different scheduling/register allocation).

Instruction classes (a partition: every instruction is in exactly one;
opcode = the mnemonic before the first '.', a leading U of the uniform
datapath dropped for the integer classes):
  HMMA    HMMA.*
  LDSM    LDSM.* (ldmatrix)
  LDGSTS  LDGSTS.* (cp.async)
  MUFU    MUFU.* (ex2, rcp, ...)
  float   FFMA FMUL FADD FMNMX FSEL FSETP FSET FCHK FRND and their 32I forms
  int     IMAD IADD3 IADD IMUL IABS IMNMX LEA LOP3 LOP SHF SHL SHR ISETP
          ISET SEL PRMT FLO POPC BREV BMSK SGXT, sm_90's VIADD VIMNMX
          VIADDMNMX (and U-forms: UIMAD, ...) without a 64-bit marker
  int64   the same opcodes with a 64-bit marker among their modifiers:
          .WIDE (32x32->64 multiply), .X (carry-in: high half of a 64-bit
          add/lea), .HI (high half: IMAD.HI, LEA.HI, SHF.*.HI), .EX (high
          half of a 64-bit compare) or .U64/.S64 (64-bit funnel shifts).
          IMAD.HI and LEA.HI also appear in 32-bit division by a constant
          and in signed rounding, so this is an upper bound on 64-bit work.
  LDG/LD  LDG, LD (global and generic loads; constant loads are "other")
  CALL    CALL to a function symbol (a subroutine call site)
  BAR     BAR, DEPBAR, LDGDEPBAR (cp.async commit/wait), MEMBAR, WARPSYNC,
          BSSY, BSYNC (convergence barriers)
  BRA     BRA BRX JMP JMX EXIT RET and CALL to a local label (a jump)
  other   everything else (MOV, S2R, SHFL, F2FP, LDS/STS, LDC, H* half ops,
          P2R/R2P, NOP, ...); the report lists them per kernel.

Limits
------
* Static counts: every instruction of the loop once. Both sides of every
  branch outside the mask region (the cp.async issue for the next tile, the
  tile cursor's inner loops) are in "common", once each, whatever a tile
  executes at run time. Loops inside a region are counted once, not per
  trip.
* Short-circuit code: when mask_tile's `dead || !Pattern::live(...)` or
  live()'s own `||`/`&&` compile to branches (per element: BSSY, BRA, ...,
  BSYNC), the partial side is the union of all its blocks, each once, an
  upper bound on what one partial tile executes; the "P blocks" column
  says how many blocks it has (1 = straight-line, if-converted).
* Calls are counted once per call site (one CALL instruction); the callee's
  body is not in the loop. The notes list each callee and its static size.
* Issue slots, not cycles: an HMMA and an IADD3 count the same; no latency,
  dual issue or stall counts.
* The dispatch order (Partial test first) is the source's; if ptxas
  reorders or merges the two tests the partial and clipped sides may be
  mixed up. The clipped-side consistency check catches most such cases.
* The HMMA sanity check assumes m16n8k16 MMAs (one HMMA.16816 each).
* Indirect branches (BRX/JMX; none in these kernels) get only their
  fall-through edge.
* If several innermost loops hold HMMA (e.g. a kernel with separate loops
  for full and partial tiles), only the one with the most HMMA is analysed
  and the notes say so.

Usage
-----
  bench/kernels/sass_counts.py [--lace build/bin/lace] [--nvdisasm PATH |
      --cuobjdump PATH] [--patterns dense,causal,...] [--head-dims 64,128]
      [--archs sm_80,sm_90] [--seq 4096] [--dtype f16] [--out FILE]
      [--keep DIR]

The disassembler: --nvdisasm / --cuobjdump, else $LACE_NVDISASM /
$LACE_CUOBJDUMP, else nvdisasm or cuobjdump on PATH or in /usr/local/cuda/bin.
"""

from __future__ import annotations

import argparse
import heapq
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Pattern files (stems under patterns/), `stem:name` to pick one pattern of
# a file that holds several (without a name: the file's first pattern).
DEFAULT_PATTERNS = [
    "dense",
    "causal",
    "sliding_window",
    "sparse_transformer:sparse_transformer_strided",
    "bigbird",
    "document",
]
REFERENCE_PATTERN = "dense"  # no Partial tiles at run time: its full path
# Instructions the clipped side may differ by between patterns before the
# report calls the partial/clipped split suspect (see consistency_notes).
CLIPPED_TOLERANCE = 4


# --------------------------------------------------------------------------
# Tools


def find_disassembler(nvdisasm: str | None, cuobjdump: str | None):
    """(kind, path) of the disassembler to use, nvdisasm preferred."""
    for kind, explicit in (("nvdisasm", nvdisasm), ("cuobjdump", cuobjdump)):
        if explicit:
            return kind, explicit
    for kind, env in (("nvdisasm", "LACE_NVDISASM"),
                      ("cuobjdump", "LACE_CUOBJDUMP")):
        if os.environ.get(env):
            return kind, os.environ[env]
    for kind in ("nvdisasm", "cuobjdump"):
        found = shutil.which(kind) or shutil.which(
            kind, path="/usr/local/cuda/bin")
        if found:
            return kind, found
    sys.exit(
        "sass_counts: no nvdisasm or cuobjdump found (looked at --nvdisasm/"
        "--cuobjdump, $LACE_NVDISASM/$LACE_CUOBJDUMP, PATH and "
        "/usr/local/cuda/bin).\n"
        "Install one into a virtual environment of your own tooling, e.g.\n"
        "  python3 -m venv ~/sass && ~/sass/bin/pip install "
        "nvidia-cuda-nvdisasm\n"
        "then pass --nvdisasm with the nvdisasm binary that package ships "
        "(find ~/sass -name nvdisasm), or set LACE_NVDISASM.")


def tool_version(path: str) -> str:
    """The tool's release line, for the report header."""
    out = subprocess.run([path, "--version"], capture_output=True,
                         text=True).stdout
    lines = [line for line in out.splitlines() if "release" in line]
    return lines[-1].strip() if lines else "unknown version"


# --------------------------------------------------------------------------
# Compiling


@dataclass
class PatternSpec:
    label: str  # the report's name: the stem, or the pattern name if given
    file: Path
    name: str


def pattern_spec(text: str, patterns_dir: Path) -> PatternSpec:
    """`stem` or `stem:name`; without a name, the file's first pattern."""
    stem, _, name = text.partition(":")
    file = patterns_dir / f"{stem}.lace"
    if not file.is_file():
        sys.exit(f"sass_counts: no pattern file {file}")
    if not name:
        match = re.search(r"^pattern\s+(\w+)", file.read_text(), re.M)
        if not match:
            sys.exit(f"sass_counts: no pattern in {file}")
        return PatternSpec(stem, file, match.group(1))
    return PatternSpec(name, file, name)


@dataclass
class Tiles:
    block_m: int
    block_n: int
    warps: int


def kernel_tiles(lace: str, spec: PatternSpec, head_dim: int, seq: int,
                 dtype: str) -> Tiles | None:
    """The tile configuration the kernel was generated with (LaceTraits in
    `--emit=cuda`), for the expected HMMA counts."""
    cmd = [lace, "compile", str(spec.file), "--pattern", spec.name,
           "--emit=cuda", "--seq", str(seq), "--head-dim", str(head_dim),
           "--dtype", dtype]
    source = subprocess.run(cmd, capture_output=True, text=True).stdout

    def trait(name):
        m = re.search(rf"constexpr int {name} = (\d+);", source)
        return int(m.group(1)) if m else None

    values = [trait("kBlockM"), trait("kBlockN"), trait("kWarps")]
    return Tiles(*values) if None not in values else None


@dataclass
class Resources:
    registers: int | None = None
    stack: int | None = None
    spill_stores: int | None = None
    spill_loads: int | None = None


def compile_forward(lace: str, spec: PatternSpec, head_dim: int, arch: str,
                    seq: int, dtype: str, out_dir: Path):
    """The cubin of the forward kernel and ptxas's report (stderr)."""
    cubin = out_dir / f"{spec.label}.d{head_dim}.{arch}.cubin"
    cmd = [lace, "compile", str(spec.file), "--pattern", spec.name,
           "--emit=cubin", "--seq", str(seq), "--head-dim", str(head_dim),
           "--dtype", dtype, "--arch", arch, "--verbose", "-o", str(cubin)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"sass_counts: {' '.join(cmd)} failed:\n{run.stderr}")
    return cubin, run.stderr


def parse_ptxas_report(report: str, kernel: str) -> Resources:
    """Registers, stack and spills of entry `kernel` from ptxas -v output."""
    res = Resources()
    current = None
    for line in report.splitlines():
        m = re.search(r"(?:Compiling entry function|Function properties for)"
                      r" '?([\w$]+)'?", line)
        if m:
            current = m.group(1)
            continue
        if current != kernel:
            continue
        m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, "
                      r"(\d+) bytes spill loads", line)
        if m:
            res.stack, res.spill_stores, res.spill_loads = map(int, m.groups())
        m = re.search(r"Used (\d+) registers", line)
        if m:
            res.registers = int(m.group(1))
    return res


# --------------------------------------------------------------------------
# The cubin's functions (ELF symbol table)


def elf_functions(cubin: Path) -> dict[str, list[tuple[int, str, bool]]]:
    """Per text section name ('.text.X'): its functions as (offset, name,
    is_global), sorted by offset. Reads the ELF64 symbol table directly so
    that both disassemblers get the same function boundaries."""
    data = cubin.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        sys.exit(f"sass_counts: {cubin} is not an ELF64 cubin")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                for i in range(shnum)]

    def c_string(table_offset: int, index: int) -> str:
        end = data.index(b"\0", table_offset + index)
        return data[table_offset + index:end].decode()

    shstr_offset = sections[shstrndx][4]
    names = [c_string(shstr_offset, s[0]) for s in sections]
    functions: dict[str, list[tuple[int, str, bool]]] = {}
    for sh_name, sh_type, _, _, offset, size, link, _, _, entsize in sections:
        if sh_type != 2 or entsize == 0:  # SHT_SYMTAB
            continue
        str_offset = sections[link][4]
        for i in range(size // entsize):
            st_name, info, _, shndx, value, _ = struct.unpack_from(
                "<IBBHQQ", data, offset + i * entsize)
            if info & 0xF != 2 or shndx >= len(names):  # STT_FUNC
                continue
            functions.setdefault(names[shndx], []).append(
                (value, c_string(str_offset, st_name), info >> 4 == 1))
    for entries in functions.values():
        entries.sort()
    return functions


# --------------------------------------------------------------------------
# Disassembly


@dataclass
class Instr:
    addr: int
    guard: str  # "" or "@P0", "@!UP1", ...
    opcode: str  # with modifiers: "IMAD.WIDE.U32"
    operands: str
    target: int | None = None  # branch/call target (section offset)

    @property
    def base(self) -> str:
        return self.opcode.split(".")[0]

    @property
    def modifiers(self) -> list[str]:
        return self.opcode.split(".")[1:]


# Opcodes that end a basic block (CALL too when its target is a local label).
TRANSFER_OPCODES = {"BRA", "BRX", "JMP", "JMX", "RET", "EXIT"}

INSTR_LINE = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;")
LABEL_LINE = re.compile(r"^\s*([.$\w]+):\s*$")
SECTION_LINE = re.compile(r"\.section\s+(\.text\.[\w$]+)")
CUOBJDUMP_FUNCTION = re.compile(r"Function\s*:\s*([\w$]+)")


def split_instruction(addr: int, text: str) -> Instr:
    """`@!P0 BRA target` -> Instr (target resolved later)."""
    text = text.strip().strip("{}").strip()
    guard = ""
    if text.startswith("@"):
        guard, _, text = text.partition(" ")
    opcode, _, operands = text.strip().partition(" ")
    return Instr(addr, guard, opcode, operands.strip())


def disassemble(kind: str, tool: str, cubin: Path) -> dict[str, list[Instr]]:
    """Per text section: its instructions with branch targets resolved to
    section offsets."""
    if kind == "nvdisasm":
        text = run_tool([tool, "-c", str(cubin)])
        return parse_nvdisasm(text)
    text = run_tool([tool, "-sass", str(cubin)])
    return parse_cuobjdump(text)


def run_tool(cmd: list[str]) -> str:
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"sass_counts: {' '.join(cmd)} failed:\n{run.stderr}")
    return run.stdout


def parse_nvdisasm(text: str) -> dict[str, list[Instr]]:
    """nvdisasm names targets by label (`(.L_x_12)`, `($callee)`); a label
    stands for the address of the next instruction."""
    sections: dict[str, list[Instr]] = {}
    labels: dict[str, dict[str, int]] = {}
    pending: list[str] = []
    current = None
    for line in text.splitlines():
        m = SECTION_LINE.search(line)
        if m:
            current = m.group(1)
            sections[current], labels[current], pending = [], {}, []
            continue
        if current is None:
            continue
        m = LABEL_LINE.match(line)
        if m:
            pending.append(m.group(1))
            continue
        m = INSTR_LINE.search(line)
        if m:
            instr = split_instruction(int(m.group(1), 16), m.group(2))
            for label in pending:
                labels[current][label] = instr.addr
            pending = []
            sections[current].append(instr)
    for name, instrs in sections.items():
        for instr in instrs:
            m = re.search(r"`\(([^)]+)\)", instr.operands)
            if m and m.group(1) in labels[name]:
                instr.target = labels[name][m.group(1)]
    return sections


def parse_cuobjdump(text: str) -> dict[str, list[Instr]]:
    """cuobjdump prints one listing per text section ("Function : X") and
    targets as section offsets."""
    sections: dict[str, list[Instr]] = {}
    current = None
    for line in text.splitlines():
        m = CUOBJDUMP_FUNCTION.search(line)
        if m:
            current = ".text." + m.group(1)
            sections[current] = []
            continue
        m = INSTR_LINE.search(line)
        if current is None or not m:
            continue
        instr = split_instruction(int(m.group(1), 16), m.group(2))
        if instr.base in TRANSFER_OPCODES | {"CALL", "BSSY"}:
            t = re.search(r"(0x[0-9a-f]+)\s*$", instr.operands)
            if t:
                instr.target = int(t.group(1), 16)
        sections[current].append(instr)
    return sections


# --------------------------------------------------------------------------
# Functions and basic blocks


@dataclass
class Function:
    name: str
    is_global: bool
    instrs: list[Instr]
    entries: set[int]  # every function start in the section (call targets)


def split_functions(sections: dict[str, list[Instr]],
                    symbols: dict[str, list[tuple[int, str, bool]]]
                    ) -> dict[str, Function]:
    """Each function runs from its symbol to the next symbol of its section."""
    functions = {}
    for section, instrs in sections.items():
        entries = symbols.get(section, [])
        starts = {offset for offset, _, _ in entries}
        for i, (offset, name, is_global) in enumerate(entries):
            end = entries[i + 1][0] if i + 1 < len(entries) else None
            body = [x for x in instrs
                    if x.addr >= offset and (end is None or x.addr < end)]
            functions[name] = Function(name, is_global, body, starts)
    return functions


def is_subroutine_call(instr: Instr, fn: Function) -> bool:
    return instr.base == "CALL" and instr.target in fn.entries


def is_transfer(instr: Instr, fn: Function) -> bool:
    """Ends a basic block: branches, exits, and CALL to a local label (a
    jump: ptxas's loop exits)."""
    return instr.base in TRANSFER_OPCODES or (
        instr.base == "CALL" and not is_subroutine_call(instr, fn))


def is_conditional(instr: Instr) -> bool:
    """Whether a transfer may fall through to the next instruction."""
    if instr.guard and instr.guard != "@PT":
        return True
    if any(m in ("DIV", "CONV") for m in instr.modifiers):
        return True
    if instr.base == "CALL":  # a jump that might return: keep both edges
        return True
    # `BRA P2, target` / `BRA !UP0, target`: a second predicate.
    return bool(re.match(r"!?U?P[0-9T]\s*,", instr.operands))


@dataclass
class Block:
    start: int
    instrs: list[Instr]
    succs: list[int] = field(default_factory=list)
    preds: list[int] = field(default_factory=list)

    def count(self, pred=lambda i: True) -> int:
        return sum(1 for i in self.instrs if pred(i))


def build_blocks(fn: Function) -> dict[int, Block]:
    """Basic blocks keyed by start address, with successor edges."""
    instrs = fn.instrs
    addrs = {i.addr for i in instrs}
    leaders = {instrs[0].addr}
    for k, instr in enumerate(instrs):
        if is_transfer(instr, fn):
            if instr.target in addrs:
                leaders.add(instr.target)
            if k + 1 < len(instrs):
                leaders.add(instrs[k + 1].addr)
    blocks: dict[int, Block] = {}
    current = None
    for instr in instrs:
        if instr.addr in leaders:
            current = blocks[instr.addr] = Block(instr.addr, [])
        current.instrs.append(instr)
    starts = sorted(blocks)
    for k, start in enumerate(starts):
        block = blocks[start]
        last = block.instrs[-1]
        next_start = starts[k + 1] if k + 1 < len(starts) else None
        if is_transfer(last, fn):
            if last.target in blocks:
                block.succs.append(last.target)
            falls = is_conditional(last) or last.base in ("BRX", "JMX")
        else:
            falls = True
        if falls and next_start is not None and next_start not in block.succs:
            block.succs.append(next_start)
    for start, block in blocks.items():
        for s in block.succs:
            blocks[s].preds.append(start)
    return blocks


# --------------------------------------------------------------------------
# Dominators, loops, regions


def dominators(nodes: set, entry, succs) -> dict:
    """dom[n] = set of nodes dominating n (iterative data flow)."""
    preds = {n: [] for n in nodes}
    for n in nodes:
        for s in succs(n):
            if s in nodes:
                preds[s].append(n)
    dom = {n: set(nodes) for n in nodes}
    dom[entry] = {entry}
    changed = True
    while changed:
        changed = False
        for n in nodes:
            if n == entry:
                continue
            ps = [dom[p] for p in preds[n]]
            new = {n} | (set.intersection(*ps) if ps else set())
            if new != dom[n]:
                dom[n], changed = new, True
    return dom


def immediate(dom: dict, n):
    """The closest strict dominator of n (dominators form a chain)."""
    strict = dom[n] - {n}
    return max(strict, key=lambda d: len(dom[d])) if strict else None


def reachable(blocks: dict[int, Block], entry: int) -> set[int]:
    seen, work = {entry}, [entry]
    while work:
        for s in blocks[work.pop()].succs:
            if s not in seen:
                seen.add(s)
                work.append(s)
    return seen


def natural_loops(blocks: dict[int, Block], entry: int) -> dict[int, set]:
    """header -> body of its natural loop (all back edges to it merged)."""
    nodes = reachable(blocks, entry)
    dom = dominators(nodes, entry, lambda n: blocks[n].succs)
    loops: dict[int, set] = {}
    for u in nodes:
        for h in blocks[u].succs:
            if h in dom[u]:  # back edge u -> h
                body = loops.setdefault(h, {h})
                work = [u]
                while work:
                    n = work.pop()
                    if n not in body:
                        body.add(n)
                        work.extend(p for p in blocks[n].preds if p in nodes)
    return loops


def is_hmma(instr: Instr) -> bool:
    return instr.base == "HMMA"


def ktile_loop(blocks: dict[int, Block], entry: int):
    """(header, body) of the innermost natural loop holding HMMA; notes on
    any ambiguity."""
    notes = []
    candidates = {h: body for h, body in natural_loops(blocks, entry).items()
                  if any(blocks[b].count(is_hmma) for b in body)}
    if not candidates:
        return None, set(), ["no loop holds HMMA"]
    innermost = {h: body for h, body in candidates.items()
                 if not any(o < body for o in candidates.values())}
    if len(innermost) > 1:
        notes.append(f"{len(innermost)} innermost loops hold HMMA; took the "
                     "one with the most")

    def hmmas(item):
        return sum(blocks[b].count(is_hmma) for b in item[1])

    header, body = max(innermost.items(), key=hmmas)
    total = sum(b.count(is_hmma) for b in blocks.values())
    if hmmas((header, body)) != total:
        notes.append(f"{total - hmmas((header, body))} HMMA outside the loop")
    return header, body, notes


@dataclass
class MaskRegion:
    branch: int  # B: the block ending in the mask dispatch
    join: int  # J: its immediate post-dominator (softmax, PV)
    blocks: set[int]  # strictly between B and J
    full_path: list[int]
    partial: set[int]
    clipped: set[int]
    s_hmma: int  # HMMA from the first HMMA block to B (S = QK^T)


def dispatch_chain(blocks, body, header) -> list[int]:
    """The blocks from the first HMMA block of the loop (the one dominating
    all others) along single-successor edges up to and including the first
    that branches with both successors in the loop; [] if there is none.
    With the S MMAs unrolled this chain is the straight-line S = QK^T code
    and its last block ends in the mask dispatch."""
    hmma_blocks = {b for b in body if blocks[b].count(is_hmma)}
    dom = dominators(body, header,
                     lambda n: [s for s in blocks[n].succs if s != header])
    first = [b for b in hmma_blocks
             if all(b in dom[x] for x in hmma_blocks)]
    chain = first[:1]
    while chain:
        succs = [s for s in blocks[chain[-1]].succs
                 if s in body and s != header]
        if len(succs) >= 2:
            return chain
        if len(succs) != 1 or succs[0] in chain:
            return []
        chain.append(succs[0])
    return []


def post_dominators(blocks, body, header) -> dict:
    """Post-dominators inside the loop: back edges and loop exits go to a
    virtual exit node (None)."""
    exit_node = None

    def loop_succs(n):
        out = []
        for s in blocks[n].succs:
            out.append(s if s in body and s != header else exit_node)
        return out

    nodes = set(body) | {exit_node}
    reverse = {n: [] for n in nodes}
    for n in body:
        for s in loop_succs(n):
            reverse[s].append(n)
    return dominators(nodes, exit_node, lambda n: reverse[n])


def cheapest_path(blocks, region: set[int], source: int, target: int):
    """Blocks strictly between source and target on the path with the
    fewest instructions (only through region blocks)."""
    queue = [(0, source, [])]
    done = set()
    while queue:
        cost, node, path = heapq.heappop(queue)
        if node == target:
            return path[:-1] if path else []
        if node in done:
            continue
        done.add(node)
        for s in blocks[node].succs:
            if s == target or s in region:
                step = 0 if s == target else len(blocks[s].instrs)
                heapq.heappush(queue, (cost + step, s, path + [s]))
    return None


def reach_within(blocks, start: int, region: set[int]) -> set[int]:
    seen, work = set(), [start]
    while work:
        n = work.pop()
        if n in region and n not in seen:
            seen.add(n)
            work.extend(blocks[n].succs)
    return seen


def mask_region(blocks, body, header) -> tuple[MaskRegion | None, str]:
    """The dispatch `if Partial ... else if clipped ...` between the S and
    PV MMAs, split into full path, partial side and clipped side."""
    chain = dispatch_chain(blocks, body, header)
    if not chain:
        return None, "no branch after the first HMMA block"
    branch = chain[-1]
    pdom = post_dominators(blocks, body, header)
    join = immediate(pdom, branch)
    if join is None:
        return None, "the mask dispatch has no join inside the loop"
    region = set()
    for s in blocks[branch].succs:
        if s != join:
            region |= reach_within(blocks, s, body - {join, header, branch})
    full = cheapest_path(blocks, region, branch, join)
    if full is None:
        return None, "no path from the mask dispatch to its join"
    off_path = [s for s in blocks[branch].succs
                if s != join and s not in full]
    partial = set()
    for s in off_path:
        partial |= reach_within(blocks, s, region - set(full))
    clipped = region - set(full) - partial
    s_hmma = sum(blocks[b].count(is_hmma) for b in chain)
    if s_hmma == sum(blocks[b].count(is_hmma) for b in body):
        # No MMA after the branch: it is not a dispatch between S and PV
        # (the mask was if-converted or moved out of this loop).
        return None, "no branch between the S and the PV MMAs"
    return MaskRegion(branch, join, region, full, partial, clipped,
                      s_hmma), ""


# --------------------------------------------------------------------------
# Classes

CLASSES = ["HMMA", "LDSM", "LDGSTS", "MUFU", "float", "int", "int64",
           "LDG/LD", "CALL", "BAR", "BRA", "other"]
FLOAT_OPS = {"FFMA", "FMUL", "FADD", "FMNMX", "FSEL", "FSETP", "FSET", "FCHK",
             "FRND", "FFMA32I", "FMUL32I", "FADD32I"}
INT_OPS = {"IMAD", "IADD3", "IADD", "IMUL", "IABS", "IMNMX", "LEA", "LOP3",
           "LOP", "SHF", "SHL", "SHR", "ISETP", "ISET", "SEL", "PRMT", "FLO",
           "POPC", "BREV", "BMSK", "SGXT", "IADD32I", "IMUL32I", "LOP32I",
           # sm_90's integer adds and min/max
           "VIADD", "VIMNMX", "VIADDMNMX", "VIMNMX3", "VIADD3"}
INT64_MARKERS = {"WIDE", "X", "HI", "EX", "U64", "S64"}
SYNC_OPS = {"BAR", "DEPBAR", "LDGDEPBAR", "MEMBAR", "WARPSYNC", "BSSY",
            "BSYNC"}


def classify(instr: Instr, fn: Function) -> str:
    base = instr.base
    if base in ("HMMA", "LDSM", "LDGSTS", "MUFU"):
        return base
    if base in FLOAT_OPS:
        return "float"
    integer = base[1:] if base.startswith("U") and base[1:] in INT_OPS \
        else base
    if integer in INT_OPS:
        return "int64" if INT64_MARKERS & set(instr.modifiers) else "int"
    if base in ("LDG", "LD"):
        return "LDG/LD"
    if base == "CALL":
        return "CALL" if is_subroutine_call(instr, fn) else "BRA"
    if base in SYNC_OPS:
        return "BAR"
    if base in TRANSFER_OPCODES:
        return "BRA"
    return "other"


def class_counts(blocks, ids, fn) -> Counter:
    counts = Counter()
    for b in ids:
        for instr in blocks[b].instrs:
            counts[classify(instr, fn)] += 1
    return counts


def other_opcodes(blocks, ids, fn) -> Counter:
    return Counter(i.base for b in ids for i in blocks[b].instrs
                   if classify(i, fn) == "other")


# --------------------------------------------------------------------------
# One kernel


@dataclass
class KernelCounts:
    label: str
    head_dim: int
    arch: str
    kernel: str = ""
    tiles: Tiles | None = None
    resources: Resources = field(default_factory=Resources)
    loop: int = 0
    loop_classes: Counter = field(default_factory=Counter)
    hmma_expected: tuple[int, int] = (0, 0)  # (S, PV)
    other: Counter = field(default_factory=Counter)
    contiguous: bool = True
    region: MaskRegion | None = None
    common: int = 0
    full_check: int = 0
    partial_mask: int = 0
    clipped_mask: int = 0
    partial_classes: Counter = field(default_factory=Counter)
    callees: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def full_tile(self) -> int:
        return self.common + self.full_check

    @property
    def partial_tile(self) -> int:
        return self.common + self.partial_mask


def expected_hmma(head_dim: int, tiles: Tiles | None) -> tuple[int, int]:
    """m16n8k16 MMAs one warp issues per k-tile: S = QK^T and O += PV."""
    if tiles is None:
        return (0, 0)
    m_tiles = tiles.block_m // tiles.warps // 16
    s = m_tiles * (tiles.block_n // 8) * (head_dim // 16)
    pv = m_tiles * (head_dim // 8) * (tiles.block_n // 16)
    return s, pv


def main_kernel(functions: dict[str, Function], wanted: str | None):
    if wanted:
        if wanted not in functions:
            sys.exit(f"sass_counts: no function {wanted} in the cubin "
                     f"(has {', '.join(functions)})")
        return functions[wanted]
    entries = [f for f in functions.values()
               if f.is_global and not f.name.endswith("_combine")]
    with_mma = [f for f in entries if any(is_hmma(i) for i in f.instrs)]
    if not with_mma:
        sys.exit("sass_counts: no forward kernel with HMMA in the cubin "
                 f"(functions: {', '.join(functions)})")
    return max(with_mma, key=lambda f: sum(map(is_hmma, f.instrs)))


def callee_sizes(blocks, body, fn: Function,
                 functions: dict[str, Function]) -> dict[str, int]:
    """Subroutines called from the loop (and from them), static sizes."""
    by_addr = {f.instrs[0].addr: f for f in functions.values()
               if f.instrs and f.entries == fn.entries}
    work = [i.target for b in body for i in blocks[b].instrs
            if is_subroutine_call(i, fn)]
    sizes = {}
    while work:
        callee = by_addr.get(work.pop())
        if callee is None or callee.name in sizes:
            continue
        sizes[callee.name] = len(callee.instrs)
        work.extend(i.target for i in callee.instrs
                    if is_subroutine_call(i, fn))
    return sizes


def analyse(cubin: Path, report: str, kind: str, tool: str,
            result: KernelCounts, wanted_kernel: str | None) -> KernelCounts:
    functions = split_functions(disassemble(kind, tool, cubin),
                                elf_functions(cubin))
    fn = main_kernel(functions, wanted_kernel)
    result.kernel = fn.name
    result.resources = parse_ptxas_report(report, fn.name)
    result.hmma_expected = expected_hmma(result.head_dim, result.tiles)

    blocks = build_blocks(fn)
    header, body, notes = ktile_loop(blocks, fn.instrs[0].addr)
    result.notes += notes
    if not body:
        return result
    result.loop = sum(len(blocks[b].instrs) for b in body)
    result.loop_classes = class_counts(blocks, body, fn)
    result.other = other_opcodes(blocks, body, fn)
    result.contiguous = is_contiguous(blocks, body)
    result.callees = callee_sizes(blocks, body, fn, functions)

    region, why = mask_region(blocks, body, header)
    if region is None:
        result.notes.append(f"mask region not found: {why}")
        result.common = result.loop
        return result
    result.region = region

    def size(ids):
        return sum(len(blocks[b].instrs) for b in ids)

    result.common = result.loop - size(region.blocks)
    result.full_check = size(region.full_path)
    result.partial_mask = size(region.partial)
    result.clipped_mask = size(region.clipped)
    result.partial_classes = class_counts(blocks, region.partial, fn)
    return result


def is_contiguous(blocks, body) -> bool:
    """Whether the loop's blocks form one address range (ptxas placed no
    block of it out of line)."""
    starts = sorted(blocks)
    index = [starts.index(b) for b in body]
    return max(index) - min(index) + 1 == len(index)


# --------------------------------------------------------------------------
# Report


def resources_cell(r: Resources) -> tuple[str, str]:
    regs = "?" if r.registers is None else str(r.registers)
    if r.spill_stores is None:
        return regs, "?"
    return regs, f"{r.stack}/{r.spill_stores}/{r.spill_loads}"


def compact(counts: Counter, order=CLASSES) -> str:
    return " ".join(f"{c} {counts[c]}" for c in order if counts[c]) or "-"


def loop_table(results: list[KernelCounts]) -> list[str]:
    head = ["pattern", "d", "arch", "tiles", "regs", "stack/spill st/ld B",
            "loop", "HMMA (S+PV)", "expected"] + CLASSES[1:]
    rows = [head, ["---"] * len(head)]
    for r in results:
        regs, spills = resources_cell(r.resources)
        c = r.loop_classes
        split = (f"{c['HMMA']} ({r.region.s_hmma}+{c['HMMA'] - r.region.s_hmma})"
                 if r.region else str(c["HMMA"]))
        s, pv = r.hmma_expected
        verdict = "ok" if (r.region and (r.region.s_hmma, c["HMMA"] -
                                         r.region.s_hmma) == (s, pv)) \
            else "MISMATCH"
        tiles = (f"{r.tiles.block_m}x{r.tiles.block_n}/{r.tiles.warps}w"
                 if r.tiles else "?")
        rows.append([r.label, str(r.head_dim), r.arch, tiles, regs, spills,
                     str(r.loop), split, f"{s}+{pv} {verdict}"] +
                    [str(c[k]) for k in CLASSES[1:]])
    return markdown(rows)


def tile_table(results: list[KernelCounts]) -> list[str]:
    dense = {(r.head_dim, r.arch): r for r in results
             if r.label == REFERENCE_PATTERN}
    head = ["pattern", "d", "arch", "common", "full check", "partial mask",
            "P blocks", "clipped mask", "full tile", "partial tile",
            "partial/full", "full vs dense", "partial mask by class"]
    rows = [head, ["---"] * len(head)]
    for r in results:
        if r.region is None:
            rows.append([r.label, str(r.head_dim), r.arch, str(r.common)] +
                        ["n/a"] * (len(head) - 4))
            continue
        ref = dense.get((r.head_dim, r.arch))
        vs_dense = (f"{r.full_tile - ref.full_tile:+d}"
                    if ref and ref.region else "n/a")
        rows.append([
            r.label, str(r.head_dim), r.arch, str(r.common),
            str(r.full_check), str(r.partial_mask),
            str(len(r.region.partial)), str(r.clipped_mask),
            str(r.full_tile), str(r.partial_tile),
            f"{r.partial_tile / r.full_tile:.3f}", vs_dense,
            compact(r.partial_classes)])
    return markdown(rows)


def markdown(rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(row) + " |" for row in rows]


def consistency_notes(results: list[KernelCounts]) -> list[str]:
    """The clipped side is the same source for every pattern of a
    configuration (it does not call Pattern::live), so its size may differ
    only by what ptxas hoists out of it (a key offset or two, shared with
    the partial side); a larger spread means the partial/clipped split
    probably failed."""
    notes = []
    by_config: dict[tuple, dict] = {}
    for r in results:
        if r.region:
            by_config.setdefault((r.head_dim, r.arch), {})[r.label] = \
                r.clipped_mask
    for (d, arch), sizes in sorted(by_config.items()):
        low, high = min(sizes.values()), max(sizes.values())
        if high - low > max(CLIPPED_TOLERANCE, low // 10):
            listed = ", ".join(f"{k} {v}" for k, v in sizes.items())
            notes.append(f"- d{d} {arch}: WARNING the clipped side differs "
                         f"between patterns ({listed}): the partial/clipped "
                         "split may be mixed up there")
        elif high != low:
            notes.append(f"- d{d} {arch}: clipped side {low}..{high} "
                         "instructions across patterns (ptxas hoisted a "
                         "little of it into the common code)")
    return notes


def kernel_notes(results: list[KernelCounts]) -> list[str]:
    lines = []
    for r in results:
        tag = f"{r.label} d{r.head_dim} {r.arch}"
        for note in r.notes:
            lines.append(f"- {tag}: {note}")
        if not r.contiguous:
            lines.append(f"- {tag}: the loop's blocks are not one address "
                         "range (ptxas placed some out of line)")
        if r.callees:
            calls = ", ".join(f"{name} ({n} instructions)"
                              for name, n in r.callees.items())
            lines.append(f"- {tag}: {r.loop_classes['CALL']} call sites in "
                         f"the loop; callees (not counted in the loop): "
                         f"{calls}")
    return lines


def report(results, args, specs, kind, tool) -> str:
    patterns = ", ".join(f"{s.label} = {s.file.name}:{s.name}" for s in specs)
    lines = [
        "# Static SASS counts of the forward k-tile loop",
        "",
        f"lace: `{args.lace}`; disassembler: {kind} ({tool_version(tool)}); "
        f"seq {args.seq}, dtype {args.dtype}. Generated by "
        "`bench/kernels/sass_counts.py`; static instruction counts (issue "
        "slots, not cycles), no GPU.",
        "",
        f"Patterns: {patterns}.",
        "",
        "Method (details in the script's docstring): basic blocks from the "
        "SASS branch targets; the k-tile loop is the innermost natural loop "
        "holding HMMA; its body counts every instruction of the loop once "
        "(both sides of every branch, inner loops once, a CALL as one "
        "instruction). The mask region is the code between the first branch "
        "after the S MMAs (the `kind == Partial` / clipped-last dispatch) "
        "and its post-dominator: the *full check* is the cheapest path "
        "through it (what a Full tile executes there), the *partial mask* "
        "the side taken by the first test (mask_tile with Pattern::live; "
        "all its blocks once, so an upper bound when live() has "
        "short-circuit branches; \"P blocks\" > 1 says so), the *clipped "
        "mask* the rest (keys >= seq_k only). *common* = loop - region; "
        "full tile = common + full check; partial tile = common + partial "
        "mask. *full vs dense*: full tile minus dense's at the same d/arch.",
        "",
        "Classes: int64 = integer ops with .WIDE/.X/.HI/.EX/.U64/.S64 "
        "(IMAD.HI and LEA.HI can be 32-bit division/rounding too); float = "
        "FFMA FMUL FADD FMNMX FSEL FSETP (+FSET FCHK FRND); BAR = BAR DEPBAR "
        "LDGDEPBAR BSSY BSYNC WARPSYNC MEMBAR; BRA = BRA BRX JMP EXIT RET and "
        "CALL to a local label (loop exits); CALL = subroutine call sites; "
        "LDG/LD = global/generic loads; other = the rest (listed below). "
        "Stack/spill in bytes from ptxas --verbose. Expected HMMA per warp "
        "per k-tile, m16n8k16: S = mtiles*(block_n/8)*(d/16), PV = "
        "mtiles*(d/8)*(block_n/16), mtiles = block_m/warps/16, tiles from "
        "the generated LaceTraits (column tiles: block_m x block_n / warps).",
        "",
        "## Loop body",
        "",
        *loop_table(results),
        "",
        "## Full tile vs partial tile (per k-tile step, one warp)",
        "",
        *tile_table(results),
        "",
        "## Notes",
        "",
    ]
    notes = consistency_notes(results) + kernel_notes(results)
    lines += notes or ["- none"]
    lines += ["", "## 'other' opcodes in the loop", ""]
    for r in results:
        lines.append(f"- {r.label} d{r.head_dim} {r.arch}: " +
                     (", ".join(f"{k} {v}" for k, v in
                                r.other.most_common()) or "-"))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(
        description="Static SASS instruction counts of the forward kernel's "
        "k-tile loop (full vs partial tiles), as a Markdown table.")
    parser.add_argument("--lace", default=str(REPO_ROOT / "build/bin/lace"))
    parser.add_argument("--nvdisasm")
    parser.add_argument("--cuobjdump")
    parser.add_argument("--patterns-dir", default=str(REPO_ROOT / "patterns"))
    parser.add_argument("--patterns", default=",".join(DEFAULT_PATTERNS),
                        help="comma-separated file stems, stem:name for a "
                        "file with several patterns")
    parser.add_argument("--head-dims", default="64,128")
    parser.add_argument("--archs", default="sm_80,sm_90")
    parser.add_argument("--seq", type=int, default=4096)
    parser.add_argument("--dtype", default="f16")
    parser.add_argument("--kernel", help="function to analyse (default: the "
                        "forward entry that is not *_combine)")
    parser.add_argument("--out", help="also write the report here")
    parser.add_argument("--keep", help="keep the cubins in this directory")
    return parser.parse_args()


def main():
    args = parse_args()
    kind, tool = find_disassembler(args.nvdisasm, args.cuobjdump)
    if not Path(args.lace).is_file():
        sys.exit(f"sass_counts: no lace binary at {args.lace} (--lace)")
    specs = [pattern_spec(p, Path(args.patterns_dir))
             for p in args.patterns.split(",")]
    head_dims = [int(d) for d in args.head_dims.split(",")]
    archs = args.archs.split(",")

    with tempfile.TemporaryDirectory() as scratch:
        out_dir = Path(args.keep or scratch)
        out_dir.mkdir(parents=True, exist_ok=True)
        results = []
        for spec in specs:
            for d in head_dims:
                for arch in archs:
                    print(f"sass_counts: {spec.label} d{d} {arch}",
                          file=sys.stderr)
                    cubin, ptxas = compile_forward(args.lace, spec, d, arch,
                                                   args.seq, args.dtype,
                                                   out_dir)
                    tiles = kernel_tiles(args.lace, spec, d, args.seq,
                                         args.dtype)
                    results.append(analyse(
                        cubin, ptxas, kind, tool,
                        KernelCounts(spec.label, d, arch, tiles=tiles),
                        args.kernel))
    text = report(results, args, specs, kind, tool)
    sys.stdout.write(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
