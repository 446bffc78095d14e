//===- Fiber.cpp - Stackful coroutines for emulated CUDA threads ----------===//
#include "Fiber.h"

#include <cstdint>
#include <cstdlib>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
// lace_emu_switch(save, load): pushes the callee-saved registers and the
// floating-point control state on the current stack, stores the stack
// pointer in *save, loads `load` and pops the same frame from there.
// lace_emu_trampoline: the first return address of a fresh fiber; calls
// r13(r12) with a 16-byte aligned stack.
asm(R"(
  .text
  .p2align 4
  .globl lace_emu_switch
  .hidden lace_emu_switch
  .type lace_emu_switch, @function
lace_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size lace_emu_switch, .-lace_emu_switch

  .p2align 4
  .globl lace_emu_trampoline
  .hidden lace_emu_trampoline
  .type lace_emu_trampoline, @function
lace_emu_trampoline:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size lace_emu_trampoline, .-lace_emu_trampoline
)");
extern "C" void lace_emu_switch(void **save, void *load);
extern "C" void lace_emu_trampoline();
#endif

namespace lace::emu {

Fiber::Fiber(std::size_t stackBytes) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  mappingBytes_ = (stackBytes + page - 1) / page * page + page;
  mapping_ = mmap(nullptr, mappingBytes_, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapping_ == MAP_FAILED)
    std::abort(); // address space exhausted: nothing sensible to continue
  mprotect(mapping_, page, PROT_NONE); // the guard page
}

Fiber::~Fiber() { munmap(mapping_, mappingBytes_); }

#if defined(__x86_64__)

void Fiber::reset(Entry entry, void *argument) {
  auto top = reinterpret_cast<std::uintptr_t>(mapping_) + mappingBytes_;
  top &= ~std::uintptr_t{15};
  auto *slots = reinterpret_cast<std::uint64_t *>(top);
  // The frame lace_emu_switch pops, from the top down: return address, rbp,
  // rbx, r12 (argument), r13 (entry), r14, r15, then MXCSR and x87 control.
  slots[-1] = reinterpret_cast<std::uint64_t>(&lace_emu_trampoline);
  slots[-2] = 0; // rbp
  slots[-3] = 0; // rbx
  slots[-4] = reinterpret_cast<std::uint64_t>(argument);
  slots[-5] = reinterpret_cast<std::uint64_t>(entry);
  slots[-6] = 0; // r14
  slots[-7] = 0; // r15
  slots[-8] = 0x1f80ull | (0x037full << 32); // default MXCSR, x87 control
  context_.stackPointer = &slots[-8];
}

void Fiber::switchTo(FiberContext &from, FiberContext &to) {
  lace_emu_switch(&from.stackPointer, to.stackPointer);
}

#else

void Fiber::reset(Entry entry, void *argument) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  getcontext(&context_.context);
  context_.context.uc_stack.ss_sp = static_cast<char *>(mapping_) + page;
  context_.context.uc_stack.ss_size = mappingBytes_ - page;
  context_.context.uc_link = nullptr;
  // makecontext passes ints: split the pointers.
  auto bits = reinterpret_cast<std::uintptr_t>(argument);
  auto fn = reinterpret_cast<std::uintptr_t>(entry);
  makecontext(&context_.context,
              reinterpret_cast<void (*)()>(+[](unsigned fnLo, unsigned fnHi,
                                               unsigned argLo, unsigned argHi) {
                auto f = reinterpret_cast<Entry>(
                    (std::uintptr_t{fnHi} << 32) | fnLo);
                f(reinterpret_cast<void *>((std::uintptr_t{argHi} << 32) |
                                           argLo));
              }),
              4, unsigned(fn), unsigned(fn >> 32), unsigned(bits),
              unsigned(bits >> 32));
}

void Fiber::switchTo(FiberContext &from, FiberContext &to) {
  swapcontext(&from.context, &to.context);
}

#endif

} // namespace lace::emu
