// SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0)
/*
 * cnilab's eBPF Service proxy (proxy mode `ebpf`; docs/proxy-ebpf.md): ClusterIP translation at
 * the pod's own interface, per packet, as Cilium's kube-proxy replacement does at its lxc devices.
 *
 *   svc_from_pod  tc ingress of each pod's host-side veth (a packet the pod sent). A reply of a
 *                 backend that `reverse` knows gets the ClusterIP:port back as its source here
 *                 (the client may be on this node, reached past its veth's egress). TCP or UDP to a
 *                 ClusterIP:port of `services`:
 *                   a packet of a flow already translated -> the backend `forward` remembers
 *                   a new flow (a TCP SYN, or a UDP flow not seen) -> a backend: the client's
 *                     `affinity` entry while fresh, else slot prandom % count of `backends`;
 *                     `forward` and `reverse` record the flow
 *                   then DNAT (daddr, dport, both checksums) and on (TC_ACT_UNSPEC): to the
 *                   next filter of the hook — an architecture's own, which forwards it by its
 *                   new address — or, without one, to the stack, whose routing takes it there
 *                   no endpoints -> a TCP SYN is answered with a RST from the ClusterIP (the
 *                     client's connect() fails at once with ECONNREFUSED); anything else dropped
 *   svc_to_pod    tc egress of the same veth (a packet for the pod): a reply from a backend
 *                 `reverse` knows gets the ClusterIP:port back as its source. Also on the ingress
 *                 of a node device that carries an architecture's own filter (the ebpf
 *                 architecture's underlay and tunnel devices), whose programs deliver a pod's
 *                 packets past its veth's egress: the reply is translated before they do.
 *
 * Both pass on with TC_ACT_UNSPEC, never ending the hook's classification: they hold pref 1, and
 * the filter after them (pref 2, an architecture's) still runs.
 *
 * Addresses and ports are kept in network byte order, as in the packet; ids, counts and times in
 * the host's (little-endian). src/proxy/ebpf/maps.ts encodes the same layouts (a unit test checks
 * them against this object's BTF).
 *
 * The socket programs (mode `ebpf-sock`) rewrite connect() and sendmsg() instead: no packet is
 * ever translated. They share `services`, `backends` and `affinity` with the tc programs.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define PROTO_TCP 6
#define PROTO_UDP 17
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define ETH_LEN 14
#define FLOWS 65536
#define NS_PER_S 1000000000ULL

/* A Service port: its ClusterIP, port and protocol. */
struct svc_key {
	__u32 ip;    /* network order */
	__u16 port;  /* network order */
	__u8 proto;  /* 6 TCP, 17 UDP */
	__u8 pad;
};

struct svc_value {
	__u32 id;            /* the key of its backends and of affinity entries */
	__u32 count;         /* slots 0..count-1 of `backends`; 0: no endpoints, refused */
	__u32 affinity_s;    /* ClientIP affinity's timeout in seconds; 0: none */
};

struct backend_key {
	__u32 id;
	__u32 slot;
};

/* An endpoint, or (in `reverse`) the Service a flow was translated from. */
struct addr {
	__u32 ip;    /* network order */
	__u16 port;  /* network order */
	__u16 pad;
};

/* A socket that talks to a Service's backend (socket programs): what it must see as its peer. */
struct sock_key {
	__u64 cookie;
	__u32 ip;    /* the backend's, network order */
	__u16 port;
	__u16 pad;
};

/* One direction of a translated flow: the client's end and the far end (ClusterIP or backend). */
struct flow_key {
	__u32 client_ip;
	__u32 peer_ip;
	__u16 client_port;
	__u16 peer_port;
	__u8 proto;
	__u8 pad[3];
};

/* The client: its IPv4 address (tc), or its network namespace's cookie with bit 63 set (socket). */
struct affinity_key {
	__u64 client;
	__u32 id;
	__u32 pad;
};

struct affinity_value {
	__u64 used_ns;       /* bpf_ktime_get_ns() of the last connection it chose */
	struct addr backend;
	__u32 slot;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct svc_key);
	__type(value, struct svc_value);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct backend_key);
	__type(value, struct addr);
} backends SEC(".maps");

/* client -> ClusterIP:port  =>  the backend chosen */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOWS);
	__type(key, struct flow_key);
	__type(value, struct addr);
} forward SEC(".maps");

/* client <- backend  =>  the ClusterIP:port to show as the source */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOWS);
	__type(key, struct flow_key);
	__type(value, struct addr);
} reverse SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOWS);
	__type(key, struct sock_key);
	__type(value, struct addr);
} sock_reverse SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOWS);
	__type(key, struct affinity_key);
	__type(value, struct affinity_value);
} affinity SEC(".maps");

/* The counters' key is program * ACTIONS + action. Keep in step with src/proxy/ebpf/maps.ts. */
enum program { SVC_FROM_POD, SVC_TO_POD, SVC_CONNECT4, SVC_SENDMSG4, SVC_RECVMSG4, SVC_GETPEERNAME4, PROGRAMS };
enum action { PASS, NEW_FLOW, ESTABLISHED, AFFINITY, REFUSED, DROP, REVERSE, ERROR, ACTIONS };

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PROGRAMS * ACTIONS);
	__type(key, __u32);
	__type(value, struct counter);
} svc_counters SEC(".maps");

static __always_inline void count(enum program p, enum action a, __u32 bytes)
{
	__u32 key = p * ACTIONS + a;
	struct counter *c = bpf_map_lookup_elem(&svc_counters, &key);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/*
 * A backend for a new connection of `client` to the Service: the affinity entry's while it is
 * fresh and its slot still holds it, else a random slot. NULL when the slot is missing (a sync
 * half-way) — the caller drops.
 */
static __always_inline int choose(const struct svc_value *svc, __u64 client, struct addr *out, int *sticky)
{
	struct backend_key bk = { .id = svc->id };
	struct affinity_key ak = { .client = client, .id = svc->id };
	struct affinity_value *av = NULL;
	struct addr *b;
	__u64 now = bpf_ktime_get_ns();

	*sticky = 0;
	if (svc->affinity_s) {
		av = bpf_map_lookup_elem(&affinity, &ak);
		if (av && now - av->used_ns < svc->affinity_s * NS_PER_S) {
			bk.slot = av->slot;
			b = bpf_map_lookup_elem(&backends, &bk);
			if (b && b->ip == av->backend.ip && b->port == av->backend.port) {
				av->used_ns = now;
				*out = *b;
				*sticky = 1;
				return 0;
			}
		}
	}
	bk.slot = bpf_get_prandom_u32() % svc->count;
	b = bpf_map_lookup_elem(&backends, &bk);
	if (!b)
		return -1;
	*out = *b;
	if (svc->affinity_s) {
		struct affinity_value nv = { .used_ns = now, .backend = *b, .slot = bk.slot };

		bpf_map_update_elem(&affinity, &ak, &nv, BPF_ANY);
	}
	return 0;
}

/* ---- the tc programs ---- */

/* What the tc programs read of a packet: TCP or UDP over IPv4, not a later fragment. */
struct pkt {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u32 l4_off;
	__u32 tcp_seq;
	__u8 proto;
	__u8 tcp_flags;
};

#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static __always_inline int parse(struct __sk_buff *skb, struct pkt *p)
{
	struct iphdr ip;
	__u16 ports[2];

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return -1;
	if (bpf_skb_load_bytes(skb, ETH_LEN, &ip, sizeof(ip)) < 0)
		return -1;
	if (ip.version != 4 || ip.ihl < 5)
		return -1;
	if (ip.protocol != PROTO_TCP && ip.protocol != PROTO_UDP)
		return -1;
	/* fragments carry no ports past the first, which would then go elsewhere: left as they are */
	if (ip.frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return -1;
	p->l4_off = ETH_LEN + ip.ihl * 4;
	if (bpf_skb_load_bytes(skb, p->l4_off, ports, sizeof(ports)) < 0)
		return -1;
	p->saddr = ip.saddr;
	p->daddr = ip.daddr;
	p->sport = ports[0];
	p->dport = ports[1];
	p->proto = ip.protocol;
	p->tcp_flags = 0;
	p->tcp_seq = 0;
	if (ip.protocol == PROTO_TCP) {
		if (bpf_skb_load_bytes(skb, p->l4_off + 4, &p->tcp_seq, 4) < 0)
			return -1;
		if (bpf_skb_load_bytes(skb, p->l4_off + 13, &p->tcp_flags, 1) < 0)
			return -1;
	}
	return 0;
}

/* Rewrites the destination (`dst`) or the source address and port, both checksums with them. */
static __always_inline int rewrite(struct __sk_buff *skb, const struct pkt *p, int dst, __u32 ip, __u16 port)
{
	__u32 old_ip = dst ? p->daddr : p->saddr;
	__u16 old_port = dst ? p->dport : p->sport;
	__u32 ip_off = ETH_LEN + (dst ? 16 : 12);
	__u32 port_off = p->l4_off + (dst ? 2 : 0);
	__u32 csum_off = p->l4_off + (p->proto == PROTO_TCP ? 16 : 6);
	/* a UDP checksum of 0 means none: it stays 0 (and a computed 0 is sent as 0xffff) */
	__u64 udp = p->proto == PROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

	if (bpf_l4_csum_replace(skb, csum_off, old_ip, ip, udp | BPF_F_PSEUDO_HDR | sizeof(ip)) < 0)
		return -1;
	if (bpf_l4_csum_replace(skb, csum_off, old_port, port, udp | sizeof(port)) < 0)
		return -1;
	if (bpf_l3_csum_replace(skb, ETH_LEN + 10, old_ip, ip, sizeof(ip)) < 0)
		return -1;
	if (bpf_skb_store_bytes(skb, ip_off, &ip, sizeof(ip), 0) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, port_off, &port, sizeof(port), 0);
}

static __always_inline __u16 fold(__s64 sum)
{
	__u32 s = (__u32)sum;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

struct pseudo_hdr {
	__u32 saddr;
	__u32 daddr;
	__u8 zero;
	__u8 proto;
	__u16 len;
};

/*
 * A SYN to a Service without endpoints: turned, in place, into the RST|ACK a closed port would
 * send, from the ClusterIP:port, and sent back out of the veth it came in by — into the pod.
 */
static __always_inline int refuse(struct __sk_buff *skb, const struct pkt *p)
{
	struct ethhdr eth;
	struct iphdr ip = {};
	struct tcphdr tcp = {};
	struct pseudo_hdr ph = { .saddr = p->daddr, .daddr = p->saddr, .proto = PROTO_TCP, .len = bpf_htons(20) };
	__u8 mac[ETH_ALEN];
	__u32 len = skb->len;

	if (p->proto != PROTO_TCP || (p->tcp_flags & (TCP_SYN | TCP_ACK)) != TCP_SYN)
		goto drop;
	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) < 0)
		goto drop;
	__builtin_memcpy(mac, eth.h_dest, ETH_ALEN);
	__builtin_memcpy(eth.h_dest, eth.h_source, ETH_ALEN);
	__builtin_memcpy(eth.h_source, mac, ETH_ALEN);
	ip.version = 4;
	ip.ihl = 5;
	ip.ttl = 64;
	ip.protocol = PROTO_TCP;
	ip.tot_len = bpf_htons(sizeof(ip) + sizeof(tcp));
	ip.frag_off = bpf_htons(0x4000); /* DF */
	ip.saddr = p->daddr;
	ip.daddr = p->saddr;
	ip.check = fold(bpf_csum_diff(NULL, 0, (__be32 *)&ip, sizeof(ip), 0));
	tcp.source = p->dport;
	tcp.dest = p->sport;
	tcp.ack_seq = bpf_htonl(bpf_ntohl(p->tcp_seq) + 1);
	tcp.doff = 5;
	tcp.rst = 1;
	tcp.ack = 1;
	tcp.check = fold(bpf_csum_diff(NULL, 0, (__be32 *)&tcp, sizeof(tcp),
				       bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0)));
	if (bpf_skb_change_tail(skb, ETH_LEN + sizeof(ip) + sizeof(tcp), 0) < 0)
		goto drop;
	if (bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) < 0 ||
	    bpf_skb_store_bytes(skb, ETH_LEN, &ip, sizeof(ip), 0) < 0 ||
	    bpf_skb_store_bytes(skb, ETH_LEN + sizeof(ip), &tcp, sizeof(tcp), BPF_F_INVALIDATE_HASH) < 0)
		goto drop;
	count(SVC_FROM_POD, REFUSED, len);
	return bpf_redirect(skb->ifindex, 0);
drop:
	count(SVC_FROM_POD, DROP, len);
	return TC_ACT_SHOT;
}

/*
 * A reply this program gave its Service's address back to carries what it replaced in skb->cb, for
 * the data path's NetworkPolicy conntrack (src/ebpf/bpf/datapath.c, reply_of): the client's flow was
 * recorded with the backend's address, which the reply no longer shows. cb[2] holds the mark (any
 * other packet has it cleared here); keep REVERSED_MARK in step with datapath.c.
 */
#define REVERSED_MARK 0x52455653 /* "REVS" */

static __always_inline void mark_reversed(struct __sk_buff *skb, __u32 ip, __u16 port)
{
	skb->cb[0] = ip;
	skb->cb[1] = port;
	skb->cb[2] = REVERSED_MARK;
}

SEC("tc")
int svc_from_pod(struct __sk_buff *skb)
{
	struct pkt p;
	struct svc_key sk = {};
	struct svc_value svc, *found;
	struct flow_key fk = {}, rk = {};
	struct addr be, orig, *known = NULL;
	enum action done = ESTABLISHED;
	__u32 len = skb->len;
	int sticky = 0;

	skb->cb[2] = 0;
	if (parse(skb, &p) < 0)
		goto pass;
	rk.client_ip = p.daddr;
	rk.client_port = p.dport;
	rk.peer_ip = p.saddr;
	rk.peer_port = p.sport;
	rk.proto = p.proto;
	known = bpf_map_lookup_elem(&reverse, &rk);
	if (known) {
		orig = *known;
		if (rewrite(skb, &p, 0, orig.ip, orig.port) < 0)
			goto error;
		mark_reversed(skb, rk.peer_ip, rk.peer_port);
		count(SVC_FROM_POD, REVERSE, len);
		return TC_ACT_UNSPEC;
	}
	known = NULL;
	sk.ip = p.daddr;
	sk.port = p.dport;
	sk.proto = p.proto;
	found = bpf_map_lookup_elem(&services, &sk);
	if (!found)
		goto pass;
	svc = *found;
	fk.client_ip = p.saddr;
	fk.client_port = p.sport;
	fk.peer_ip = p.daddr;
	fk.peer_port = p.dport;
	fk.proto = p.proto;
	/* a SYN opens a new connection: it chooses anew, whatever an old one with its ports chose */
	if (p.proto != PROTO_TCP || (p.tcp_flags & (TCP_SYN | TCP_ACK)) != TCP_SYN)
		known = bpf_map_lookup_elem(&forward, &fk);
	if (known) {
		be = *known;
	} else {
		if (svc.count == 0)
			return refuse(skb, &p);
		if (choose(&svc, p.saddr, &be, &sticky) < 0)
			goto error;
		done = sticky ? AFFINITY : NEW_FLOW;
		bpf_map_update_elem(&forward, &fk, &be, BPF_ANY);
	}
	rk.client_ip = p.saddr;
	rk.client_port = p.sport;
	rk.peer_ip = be.ip;
	rk.peer_port = be.port;
	rk.proto = p.proto;
	orig.ip = p.daddr;
	orig.port = p.dport;
	orig.pad = 0;
	if (done != ESTABLISHED || !bpf_map_lookup_elem(&reverse, &rk))
		bpf_map_update_elem(&reverse, &rk, &orig, BPF_ANY);
	if (rewrite(skb, &p, 1, be.ip, be.port) < 0)
		goto error;
	count(SVC_FROM_POD, done, len);
	return TC_ACT_UNSPEC;
error:
	count(SVC_FROM_POD, ERROR, len);
	return TC_ACT_SHOT;
pass:
	count(SVC_FROM_POD, PASS, len);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int svc_to_pod(struct __sk_buff *skb)
{
	struct pkt p;
	struct flow_key rk = {};
	struct addr *svc;
	__u32 len = skb->len;
	__u32 ip;
	__u16 port;

	skb->cb[2] = 0;
	if (parse(skb, &p) < 0)
		goto pass;
	rk.client_ip = p.daddr;
	rk.client_port = p.dport;
	rk.peer_ip = p.saddr;
	rk.peer_port = p.sport;
	rk.proto = p.proto;
	svc = bpf_map_lookup_elem(&reverse, &rk);
	if (!svc)
		goto pass;
	ip = svc->ip;
	port = svc->port;
	if (rewrite(skb, &p, 0, ip, port) < 0) {
		count(SVC_TO_POD, ERROR, len);
		return TC_ACT_SHOT;
	}
	mark_reversed(skb, rk.peer_ip, rk.peer_port);
	count(SVC_TO_POD, REVERSE, len);
	return TC_ACT_UNSPEC;
pass:
	count(SVC_TO_POD, PASS, len);
	return TC_ACT_UNSPEC;
}

/* ---- the socket programs (mode ebpf-sock) ---- */

#define SYS_REJECT 0
#define SYS_PROCEED 1

/* connect() and sendmsg(): a ClusterIP:port becomes a backend's before any packet exists. */
static __always_inline int translate(struct bpf_sock_addr *ctx, enum program prog)
{
	struct svc_key sk = {};
	struct svc_value svc, *found;
	struct sock_key rk = {};
	struct addr be, orig;
	int sticky = 0;

	if (ctx->protocol != PROTO_TCP && ctx->protocol != PROTO_UDP)
		goto pass;
	sk.ip = ctx->user_ip4;
	sk.port = (__u16)ctx->user_port;
	sk.proto = ctx->protocol;
	found = bpf_map_lookup_elem(&services, &sk);
	if (!found)
		goto pass;
	svc = *found;
	if (svc.count == 0) {
		/* connect() and sendmsg() fail with EPERM: nothing is sent */
		count(prog, REFUSED, 0);
		return SYS_REJECT;
	}
	if (choose(&svc, bpf_get_netns_cookie(ctx) | (1ULL << 63), &be, &sticky) < 0) {
		count(prog, ERROR, 0);
		return SYS_REJECT;
	}
	rk.cookie = bpf_get_socket_cookie(ctx);
	rk.ip = be.ip;
	rk.port = be.port;
	orig.ip = sk.ip;
	orig.port = sk.port;
	orig.pad = 0;
	bpf_map_update_elem(&sock_reverse, &rk, &orig, BPF_ANY);
	ctx->user_ip4 = be.ip;
	ctx->user_port = (__u32)be.port;
	count(prog, sticky ? AFFINITY : NEW_FLOW, 0);
	return SYS_PROCEED;
pass:
	count(prog, PASS, 0);
	return SYS_PROCEED;
}

/* recvmsg() and getpeername(): a backend's address is shown as the ClusterIP:port it stands for. */
static __always_inline int untranslate(struct bpf_sock_addr *ctx, enum program prog)
{
	struct sock_key rk = {};
	struct addr *orig;

	rk.cookie = bpf_get_socket_cookie(ctx);
	rk.ip = ctx->user_ip4;
	rk.port = (__u16)ctx->user_port;
	orig = bpf_map_lookup_elem(&sock_reverse, &rk);
	if (!orig) {
		count(prog, PASS, 0);
		return SYS_PROCEED;
	}
	ctx->user_ip4 = orig->ip;
	ctx->user_port = (__u32)orig->port;
	count(prog, REVERSE, 0);
	return SYS_PROCEED;
}

SEC("cgroup/connect4")
int svc_connect4(struct bpf_sock_addr *ctx)
{
	return translate(ctx, SVC_CONNECT4);
}

SEC("cgroup/sendmsg4")
int svc_sendmsg4(struct bpf_sock_addr *ctx)
{
	return translate(ctx, SVC_SENDMSG4);
}

SEC("cgroup/recvmsg4")
int svc_recvmsg4(struct bpf_sock_addr *ctx)
{
	return untranslate(ctx, SVC_RECVMSG4);
}

SEC("cgroup/getpeername4")
int svc_getpeername4(struct bpf_sock_addr *ctx)
{
	return untranslate(ctx, SVC_GETPEERNAME4);
}

char _license[] SEC("license") = "Dual BSD/GPL";
