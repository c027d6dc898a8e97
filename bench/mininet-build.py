#!/usr/bin/python3
"""Times Mininet building, starting and stopping what `mn --topo single,6 --switch lxbr
--controller none --test none` builds, split into build+start and stop. Prints one JSON line.
Run inside a namespace cnilab made (the benchmark does that), never in the host's own."""
import json
import sys
import time

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import SingleSwitchTopo

hosts = int(sys.argv[1]) if len(sys.argv) > 1 else 6
setLogLevel('warning')
t0 = time.perf_counter()
net = Mininet(topo=SingleSwitchTopo(k=hosts), switch=LinuxBridge, controller=None)
net.start()
t1 = time.perf_counter()
net.stop()
t2 = time.perf_counter()
print(json.dumps({'hosts': hosts, 'upSec': t1 - t0, 'downSec': t2 - t1}))
