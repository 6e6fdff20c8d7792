"""servekit.py - what the test servers and their self-tests share.

The servers (s3strict.py, importfake.py) take --port 0 --port-file FILE:
they bind a free port, write it to FILE (atomically) and print
"listening on PORT".  serve() does that part; ServerProcess starts such a
script in a private temporary directory and waits for it.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time


class RuleList:
    """Fault rules shared by the handler threads (POST/DELETE/GET of the
    faults endpoint).  take(match) returns a copy of the first rule that
    match(rule) accepts, after its "skip" count (if any) has run out, and
    uses up one of its "times" (-1: for ever)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def add(self, rules):
        with self.lock:
            self.rules.extend(rules)

    def clear(self):
        with self.lock:
            self.rules = []

    def snapshot(self):
        with self.lock:
            return [dict(rule) for rule in self.rules]

    def take(self, match):
        with self.lock:
            for rule in self.rules:
                if not match(rule):
                    continue
                if rule.get("skip", 0) > 0:
                    rule["skip"] -= 1
                    continue
                if rule["times"] > 0:
                    rule["times"] -= 1
                    if rule["times"] == 0:
                        self.rules.remove(rule)
                return dict(rule)
        return None


def write_port_file(path, port):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as out:
        out.write(f"{port}\n")
    os.replace(tmp, path)  # readers never see a partial file


def serve(server, port_file):
    """Announces server's port, then serves until SIGTERM or SIGINT."""
    port = server.server_address[1]
    if port_file:
        write_port_file(port_file, port)
    print(f"listening on {port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


class ServerProcess:
    """A server script on a free port, with a private temporary dir
    (self.tmp: tmp if given, else a new one) that stop() removes."""

    def __init__(self, script, *args, tmp=None, prefix="server-test-"):
        self.tmp = tmp or tempfile.mkdtemp(prefix=prefix)
        port_file = os.path.join(self.tmp, "port")
        self.stderr = open(os.path.join(self.tmp, "stderr"), "w+")
        self.proc = subprocess.Popen(
            [sys.executable, script, "--port", "0", "--port-file",
             port_file, *args],
            stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.port = self.wait_for_port(port_file)
        line = self.proc.stdout.readline().strip()
        assert line == f"listening on {self.port}", line
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_for_port(self, port_file):
        deadline = time.time() + 15
        while time.time() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    return int(f.read())
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{os.path.basename(self.proc.args[1])} did not "
                           "start: " + self.errors())

    def errors(self):
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
