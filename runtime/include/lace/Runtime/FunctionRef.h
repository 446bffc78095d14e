//===- FunctionRef.h - A non-owning reference to a callable ---------------===//
//
// Like llvm::function_ref, without LLVM: the runtime builds without it. The
// referenced callable must outlive the call that receives the reference.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_FUNCTIONREF_H
#define LACE_RUNTIME_FUNCTIONREF_H

#include <memory>
#include <type_traits>
#include <utility>

namespace lace {

template <typename Fn> class FunctionRef;

template <typename Ret, typename... Params> class FunctionRef<Ret(Params...)> {
public:
  template <typename Callable,
            typename = std::enable_if_t<
                !std::is_same_v<std::remove_cvref_t<Callable>, FunctionRef> &&
                std::is_invocable_r_v<Ret, Callable &, Params...>>>
  FunctionRef(Callable &&callable)
      : callable_(const_cast<void *>(
            static_cast<const void *>(std::addressof(callable)))),
        invoke_([](void *callable, Params... params) -> Ret {
          return (*static_cast<std::remove_reference_t<Callable> *>(callable))(
              std::forward<Params>(params)...);
        }) {}

  Ret operator()(Params... params) const {
    return invoke_(callable_, std::forward<Params>(params)...);
  }

private:
  void *callable_;
  Ret (*invoke_)(void *, Params...);
};

} // namespace lace

#endif // LACE_RUNTIME_FUNCTIONREF_H
