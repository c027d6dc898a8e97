/**
 * A UDP echo probe for measuring interruptions (ping stops at the first "unreachable"; this does
 * not). Run inside lab namespaces with `ip netns exec`:
 *   node probe.js server IP PORT            echoes every datagram
 *   node probe.js client IP PORT SECONDS    sends every 10 ms; says "answered" on stderr at the first
 *                                           answer, prints {"sent","received","gapMs"} at the end
 */
import { createSocket } from 'node:dgram';

const [mode, ip, port, seconds] = process.argv.slice(2);
const sock = createSocket('udp4');
if (mode === 'server') {
  sock.on('message', (m, from) => sock.send(m, from.port, from.address));
  sock.bind(Number(port), ip);
} else {
  const replies: number[] = [];
  let sent = 0;
  sock.on('message', () => {
    if (replies.push(performance.now()) === 1) process.stderr.write('answered\n');
  });
  sock.on('error', () => undefined); // unreachable for a while: that is what is measured
  const start = performance.now();
  const timer = setInterval(() => {
    sent++;
    sock.send(Buffer.from(String(sent)), Number(port), ip, () => undefined);
  }, 10);
  setTimeout(
    () => {
      clearInterval(timer);
      setTimeout(() => {
        const stamps = [start, ...replies];
        let gap = 0;
        for (let i = 1; i < stamps.length; i++) gap = Math.max(gap, stamps[i]! - stamps[i - 1]!);
        process.stdout.write(JSON.stringify({ sent, received: replies.length, gapMs: Math.round(gap) }) + '\n');
        process.exit(0);
      }, 300);
    },
    Number(seconds) * 1000,
  );
}
