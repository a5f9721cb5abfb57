# lit configuration: golden FileCheck tests on odlc's IR and emitted C.
import os

import lit.formats

config.name = "odlc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".test"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.odlc_build_dir, "tests", "lit")
config.substitutions.append(("%odlc", config.odlc_binary))
config.substitutions.append(("%model", "/usr/bin/python3 " +
                             os.path.join(config.test_source_root, "Inputs", "make_model.py")))
config.substitutions.append(("%expect-error",
                             os.path.join(config.test_source_root, "Inputs", "expect-error.sh")))
config.substitutions.append(("%check-plan", "/usr/bin/python3 " +
                             os.path.join(config.test_source_root, "Inputs", "check_plan.py")))
config.substitutions.append(("%check-svg-layout", "/usr/bin/python3 " +
                             os.path.join(config.test_source_root, "Inputs", "check_svg_layout.py")))
config.substitutions.append(("%check-certificate", "/usr/bin/python3 " + os.path.join(
    config.test_source_root, "..", "..", "bench", "plan_buffers", "check_certificate.py")))
config.substitutions.append(("FileCheck", config.filecheck))
config.environment["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "")
