# Jupyter protocol conformance of the transfer-lab kernel: jupyter_kernel_test's KernelTests
# with TypeScript samples. Run by test/kernel-conformance.test.ts with the Jupyter Python and a
# throwaway JUPYTER_DATA_DIR; prints one JSON line {"tests": {name: "pass"|"fail"|"skip"}}.
# Pager, history and clear_output are left unset (tslab has none of them), so those skip.
import json
import os
import sys
import unittest

import jupyter_kernel_test

# The kernelspec to test; TRANSFER_LAB_CONFORMANCE_KERNEL names another (e.g. plain tslab).
KERNEL_NAME = os.environ.get("TRANSFER_LAB_CONFORMANCE_KERNEL", "transfer-lab")
# tslab compiles its first cell, and the first to import a module, for several seconds on a busy
# machine, near jupyter_kernel_test's 15 s per message; setUpClass runs such a cell with this
# budget first (the import is tslab's, which the display samples use).
WARMUP_CODE = 'import * as tslab from "tslab";\ntslab.versions.tslab;'
WARMUP_TIMEOUT_S = 180


class TransferLabKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = KERNEL_NAME
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world");'
    code_stderr = 'console.error("to stderr");'
    completion_samples = [{"text": "const transferLabAnswer = 42;\ntransferLabAns", "matches": ["transferLabAnswer"]}]
    complete_code_samples = ["1 + 1", "const x = 1;", "function f(a: number) {\n  return a;\n}"]
    incomplete_code_samples = ["function f(a: number) {", "const xs = [1,"]
    code_generate_error = 'throw new RangeError("freezeRatio must be in [0, 1], got 2");'
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "[1, 2, 3].map((x) => x * 2)", "result": "[ 2, 4, 6 ]"},
        {"code": '"ab" + "cd"', "result": "'abcd'"},
    ]
    code_display_data = [
        {"code": 'import * as tslab from "tslab";\ntslab.display.html("<b>hello</b>");', "mime": "text/html"},
        {"code": 'import * as tslab from "tslab";\ntslab.display.markdown("**hello**");', "mime": "text/markdown"},
    ]
    code_inspect_sample = "Math.max"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        reply = cls.kc.execute_interactive(WARMUP_CODE, timeout=WARMUP_TIMEOUT_S, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", "warm-up cell failed: %r" % (reply["content"],)


class RecordingResult(unittest.TextTestResult):
    """One outcome per test method. A test with subtests failed if one failed, passed if one
    passed, else skipped (test_history: every subtest skips without history support)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}  # test method -> outcome of the method itself
        self.subtests = {}  # test method -> set of its subtests' outcomes

    def _record(self, test, outcome):
        if isinstance(test, unittest.case._SubTest):
            self.subtests.setdefault(method_name(test.test_case), set()).add(outcome)
        else:
            self.outcomes[method_name(test)] = outcome

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "fail")

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "fail")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skip")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is None:
            self._record(subtest, "pass")
        else:
            self._record(subtest, "skip" if issubclass(err[0], unittest.SkipTest) else "fail")

    def summary(self):
        # unittest reports no outcome of its own for a method whose subtests failed or skipped.
        out = {}
        for name in set(self.outcomes) | set(self.subtests):
            outcome, subs = self.outcomes.get(name), self.subtests.get(name, set())
            if outcome == "fail" or "fail" in subs:
                out[name] = "fail"
            elif subs:
                out[name] = "pass" if "pass" in subs else "skip"
            else:
                out[name] = outcome
        return dict(sorted(out.items()))


def method_name(test):
    return test.id().split(".")[-1]


def main():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(TransferLabKernelTests)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=RecordingResult)
    result = runner.run(suite)
    sys.stdout.write(json.dumps({"kernel": KERNEL_NAME, "tests": result.summary()}) + "\n")
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
