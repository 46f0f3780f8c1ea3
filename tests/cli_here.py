"""The command line's own ``main`` run in the test process (as a subprocess would run it, minus
the start-up), and the check that a fatal problem is exactly one ``error:`` line with exit 2."""
from cli import main


class CliOutput:
    def __init__(self, rc, cap):
        self.returncode, self.stdout, self.stderr = rc, cap.out, cap.err


def cli_here(capfd, *args) -> CliOutput:
    capfd.readouterr()
    rc = main([str(a) for a in args])
    return CliOutput(rc, capfd.readouterr())


def one_line_error(out) -> str:
    assert out.returncode == 2, (out.returncode, out.stderr[-2000:])
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, out.stderr
    return lines[0]
