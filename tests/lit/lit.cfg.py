# lit configuration for Lace's compiler tests.
import os

import lit.formats

config.name = "Lace"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".lace", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.lace_obj_root, "tests", "lit")

# Tools resolve from the build first, then LLVM's FileCheck/not/count.
config.environment["PATH"] = os.pathsep.join(
    [config.lace_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)
config.substitutions.append(("%lace_src_root", config.lace_src_root))
config.substitutions.append(("%patterns", os.path.join(config.lace_src_root, "patterns")))
if config.lace_have_nvrtc:
    config.available_features.add("nvrtc")
