"""A three-node RabbitMQ cluster of the test's own, beside the machine's node.

Each node has its own name, AMQP and distribution ports, config (the system config pins
5672), empty plugin list, data and log folders, all owned by the ``rabbitmq`` user, and
shares the system Erlang cookie so that ``rabbitmqctl`` and the nodes talk. Clients reach
the cluster through the kit tests' ``CuttableProxy`` given the three ports, which stands
for the load balancer (a Kubernetes Service, a compose network alias) in front of the
nodes: a new connection goes to the first node that answers.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
COOKIE_HOME = "/var/lib/rabbitmq"


@dataclass
class Node:
    name: str
    amqp_port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def nodename(self) -> str:
        return f"{self.name}@localhost"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.amqp_port}\n"
        )
        (self.folder / "enabled_plugins").write_text("[].\n")
        shutil.chown(self.folder, "rabbitmq", "rabbitmq")
        for path in self.folder.iterdir():
            shutil.chown(path, "rabbitmq", "rabbitmq")
        env = {
            "HOME": COOKIE_HOME,
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.amqp_port + 20000),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_CONF_ENV_FILE": "/dev/null",
        }
        command = ["runuser", "-u", "rabbitmq", "--", "env", *(f"{k}={v}" for k, v in env.items())]
        with open(self.folder / "server.out", "ab") as out:
            self.process = subprocess.Popen([*command, SERVER], stdout=out, stderr=out)

    def ctl(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(
            ["rabbitmqctl", "-n", self.nodename, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl -n {self.nodename} {' '.join(args)}: {done.stderr}")
        return done.stdout

    def await_startup(self, deadline_s: float = 90) -> None:
        # Until the node has registered with epmd, rabbitmqctl cannot even reach it.
        give_up = time.monotonic() + deadline_s
        while True:
            try:
                self.ctl("await_startup", timeout=deadline_s)
                return
            except (RuntimeError, subprocess.TimeoutExpired):
                if time.monotonic() > give_up:
                    raise
                time.sleep(1)

    def stop(self) -> None:
        """Stop the whole node (the Erlang VM), as a crash or a drained machine would."""
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.ctl("stop")
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
            if self.process.poll() is None:
                self.process.kill()
            self.process = None


class Cluster:
    def __init__(self, prefix: str, first_port: int = 5701) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
        shutil.chown(self.root, "rabbitmq", "rabbitmq")
        self.nodes = [Node(f"{prefix}n{i}", first_port + i, self.root / f"n{i}") for i in range(3)]

    @property
    def ports(self) -> list[int]:
        return [node.amqp_port for node in self.nodes]

    def node(self, nodename: str) -> Node:
        return next(node for node in self.nodes if node.nodename == nodename)

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        for node in self.nodes:
            node.await_startup()
        seed = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", seed.nodename)
            node.ctl("start_app")
            node.await_startup()

    def running_nodes(self) -> set[str]:
        status = json.loads(self.nodes[0].ctl("cluster_status", "--formatter", "json"))
        return set(status["running_nodes"])

    def queue_leader(self, queue: str, via: Node | None = None) -> str:
        """The node leading a quorum queue (``rabbitmqctl list_queues name leader``)."""
        asked = via or self.nodes[0]
        listing = asked.ctl("list_queues", "name", "leader", "--quiet", "--no-table-headers")
        for line in listing.splitlines():
            name, _, leader = line.partition("\t")
            if name == queue:
                return leader.strip()
        raise LookupError(f"no queue {queue} on the cluster")

    def destroy(self) -> None:
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.root, ignore_errors=True)
