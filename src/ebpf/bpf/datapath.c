// SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0)
/*
 * cnilab's eBPF data path: tc (clsact) programs on a node, in the style of Cilium's "eBPF host
 * routing". Pods sit on veths without a bridge; these programs move their IPv4 and IPv6 packets
 * past the node's IP stack (routing decision, netfilter, neighbour queue on the way in):
 *
 *   from_pod     ingress of each pod's host-side veth (a packet the pod sent):
 *                  to a pod of this node  -> bpf_redirect_peer() straight into that pod's eth0
 *                  elsewhere              -> bpf_fib_lookup() in the node's routing table, then
 *                                            bpf_redirect() to the route's device (the underlay,
 *                                            or the VXLAN device in tunnel mode), or
 *                                            bpf_redirect_neigh() when the next hop's MAC is not
 *                                            known yet (the kernel resolves it)
 *   from_netdev  ingress of the node's underlay device: a packet for a pod of this node ->
 *                bpf_redirect_peer() into it; anything else to the stack (the node's own traffic)
 *   from_tunnel  ingress of the VXLAN device (tunnel mode): the same, after decapsulation
 *   from_netkit  from_pod for a pod on a netkit pair instead of a veth (ebpf-netkit): the program
 *                of the pair's peer end (BPF_NETKIT_PEER), run in that end's own transmit routine
 *                — the packet never queues for the host end's receive. It is not at a tc ingress
 *                hook, where bpf_redirect_peer() is allowed (the kernel drops such a redirect), so
 *                it hands a packet for a local pod to that pod's host end with bpf_redirect(),
 *                whose transmit delivers it; the rest as from_pod
 *
 * Whatever these programs do not handle (ARP, TTL about to expire, no route) goes to the stack
 * unchanged (TC_ACT_OK), which handles it as it would without them.
 *
 * IPv6 takes the same paths, with its own endpoint map (endpoints6, by the 16-byte address; the same
 * value) and a fib lookup in AF_INET6; the hop limit goes down by one (no header checksum). Left to
 * the stack: link-local and multicast destinations (neighbour and router discovery, which the
 * stack must see: the host end answers for the pod's gateway fe80::ecee:eeff:feee:eeee), ICMPv6
 * neighbour discovery of any address, a hop limit about to expire, and what has no route.
 * NetworkPolicy is IPv4 only: an IPv6 packet is not checked, so a lab with IPv6 pods gets no ebpf
 * policy design (it declares ipFamilies [4]: src/ebpf/policy/design.ts, src/lab/policy.ts).
 *
 * NetworkPolicy (Cilium's layout, written by src/ebpf/policy/): policy_eps names the local pods
 * that have a policy (absent: nothing is checked — one hash lookup); ipcache maps an address to
 * the remote's security identity (longest prefix); policy holds each endpoint's allowed
 * {direction, identity, protocol, port prefix}; ct is the per-endpoint conntrack (Cilium's
 * CT_INGRESS/CT_EGRESS) that lets established flows and their replies through. The source pod's
 * egress is checked in from_pod, the destination pod's ingress in deliver().
 *
 * The node agent loads this object once per node (bpftool), pinning the programs and the
 * maps in the lab's own bpffs; the CNI plugin attaches from_pod to each pod's veth and adds the
 * pod to `endpoints`. src/ebpf/maps.ts encodes the same layouts (test/unit checks them against
 * this object's BTF).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/in6.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define AF_INET6 10

/* A pod of this node, by its IPv4 address (endpoints) or its IPv6 address (endpoints6). */
struct endpoint {
	__u32 ifindex;     /* its host-side veth, in the node's namespace */
	__u8 mac[6];       /* its eth0's MAC: the destination of what is delivered to it */
	__u8 node_mac[6];  /* the host-side veth's MAC: the source, as a router's would be */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* IPv4 address, network byte order */
	__type(value, struct endpoint);
} endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct in6_addr); /* IPv6 address, network byte order */
	__type(value, struct endpoint);
} endpoints6 SEC(".maps");

/* The counters' key is program * ACTIONS + action. Keep in step with src/ebpf/maps.ts. */
enum program { FROM_POD, FROM_NETDEV, FROM_TUNNEL, FROM_NETKIT, PROGRAMS };
enum action { REDIRECT_PEER, REDIRECT_NEIGH, REDIRECT, PASS, DROP, ACTIONS };

/* ---- NetworkPolicy: keep in step with src/ebpf/policy/maps.ts -------------------------------- */

enum direction { INGRESS, EGRESS };

/* A local pod with a policy: whether it is isolated in each direction. */
struct policy_ep {
	__u8 ingress;
	__u8 egress;
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* IPv4 address, network byte order */
	__type(value, struct policy_ep);
} policy_eps SEC(".maps");

/* An address block; value: the security identity of the addresses in it (the longest prefix's). */
struct ipcache_key {
	__u32 prefixlen;
	__u32 addr; /* network byte order */
};

#define IDENTITY_WORLD 2

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ipcache_key);
	__type(value, __u32);
} ipcache SEC(".maps");

/*
 * What an endpoint allows, one direction: the remote's identity (0: any remote), then protocol and
 * destination port last, so a prefix stopping before them allows every protocol and port, and a
 * port range is a few prefixes of the port's bits (network order).
 */
struct policy_key {
	__u32 prefixlen;
	__u32 endpoint; /* network byte order */
	__u32 identity;
	__u8 direction;
	__u8 protocol;
	__u16 dport; /* network byte order */
};

#define POLICY_KEY_BITS 96

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 262144);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct policy_key);
	__type(value, __u32);
} policy SEC(".maps");

/* A flow as one endpoint saw it in one direction (addresses and ports as on the wire). */
struct ct_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 protocol;
	__u8 direction;
	__u16 pad;
	__u32 endpoint;
};

struct ct_entry {
	__u64 created; /* bpf_ktime_get_ns() */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ct_key);
	__type(value, struct ct_entry);
} ct SEC(".maps");

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PROGRAMS * ACTIONS);
	__type(key, __u32);
	__type(value, struct counter);
} counters SEC(".maps");

static __always_inline int count(struct __sk_buff *skb, enum program p, enum action a, int verdict)
{
	__u32 key = p * ACTIONS + a;
	struct counter *c = bpf_map_lookup_elem(&counters, &key);

	if (c) {
		c->packets++;
		c->bytes += skb->len;
	}
	return verdict;
}

/* The Ethernet and IPv4 headers, in the linear part of the packet; NULL for anything else. */
static __always_inline struct iphdr *ipv4(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if (data + sizeof(*eth) + sizeof(struct iphdr) > end) {
		/* headers not in the linear part (rare after GRO): pull them in, then look again */
		if (bpf_skb_pull_data(skb, sizeof(*eth) + sizeof(struct iphdr)) < 0)
			return NULL;
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		eth = data;
		if (data + sizeof(*eth) + sizeof(struct iphdr) > end)
			return NULL;
	}
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return NULL;
	return data + sizeof(*eth);
}

/* As a router does: TTL down by one, the header checksum updated to match (RFC 1624). */
static __always_inline void ttl_down(struct iphdr *ip)
{
	__u32 sum = (__u32)ip->check + (__u32)bpf_htons(0x0100);

	ip->check = (__u16)(sum + (sum >= 0xffff));
	ip->ttl--;
}

static __always_inline void set_macs(struct __sk_buff *skb, const __u8 *dst, const __u8 *src)
{
	struct ethhdr *eth = (void *)(long)skb->data;

	if ((void *)(eth + 1) > (void *)(long)skb->data_end)
		return;
	__builtin_memcpy(eth->h_dest, dst, ETH_ALEN);
	__builtin_memcpy(eth->h_source, src, ETH_ALEN);
}

/* The packet's flow; ports only for TCP, UDP and SCTP (first fragment), else 0. */
static __always_inline void flow_of(struct __sk_buff *skb, struct iphdr *ip, struct ct_key *k)
{
	__u16 ports[2] = {};

	k->saddr = ip->saddr;
	k->daddr = ip->daddr;
	k->protocol = ip->protocol;
	if ((ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP || ip->protocol == IPPROTO_SCTP) &&
	    !(ip->frag_off & bpf_htons(0x1fff)) &&
	    bpf_skb_load_bytes(skb, sizeof(struct ethhdr) + ip->ihl * 4, ports, sizeof(ports)) == 0) {
		k->sport = ports[0];
		k->dport = ports[1];
	}
}

/*
 * The mark the eBPF Service proxy (src/proxy/ebpf/bpf/service.c, mark_reversed) leaves in cb[2] on a
 * reply it gave its ClusterIP back to, with the backend's address and port in cb[0] and cb[1]. The
 * proxy's program runs before these (tc pref 1) and clears the mark on every other packet; without
 * a proxy the value is never looked at beyond a conntrack lookup, which only a real flow can match.
 */
#define REVERSED_MARK 0x52455653

/* Whether endpoint `ep`'s policy allows the remote `remote` (identity via ipcache) on this flow. */
static __always_inline int policy_allows(__u32 ep, __u32 remote, const struct ct_key *f, __u8 dir)
{
	struct ipcache_key ck = { .prefixlen = 32, .addr = remote };
	struct policy_key pk = {
		.prefixlen = POLICY_KEY_BITS,
		.endpoint = ep,
		.identity = IDENTITY_WORLD,
		.direction = dir,
		.protocol = f->protocol,
		.dport = f->dport,
	};
	__u32 *id = bpf_map_lookup_elem(&ipcache, &ck);

	if (id)
		pk.identity = *id;
	if (bpf_map_lookup_elem(&policy, &pk))
		return 1;
	pk.identity = 0; /* a rule allowing any remote */
	return bpf_map_lookup_elem(&policy, &pk) != NULL;
}

/*
 * Endpoint `ep`'s verdict on a packet in direction `dir`: 1 to let it through. An endpoint with no
 * policy: nothing checked. Else its flow's entry (established), or the reversed flow's entry in the
 * other direction (a reply), or the policy — and a flow it allows is tracked.
 */
static __always_inline int policy_verdict(struct __sk_buff *skb, struct iphdr *ip, __u32 ep, __u8 dir)
{
	struct policy_ep *pe = bpf_map_lookup_elem(&policy_eps, &ep);
	struct ct_key k = {}, r = {};
	struct ct_entry e = {};
	__u8 isolated;

	if (!pe)
		return 1;
	isolated = dir == INGRESS ? pe->ingress : pe->egress;
	flow_of(skb, ip, &k);
	k.direction = dir;
	k.endpoint = ep;
	if (bpf_map_lookup_elem(&ct, &k))
		return 1;
	r.saddr = k.daddr;
	r.daddr = k.saddr;
	r.sport = k.dport;
	r.dport = k.sport;
	/* a reply the eBPF Service proxy gave the ClusterIP back to: its flow was the backend's */
	if (dir == INGRESS && skb->cb[2] == REVERSED_MARK) {
		r.daddr = skb->cb[0];
		r.dport = (__u16)skb->cb[1];
	}
	r.protocol = k.protocol;
	r.direction = dir == INGRESS ? EGRESS : INGRESS;
	r.endpoint = ep;
	if (bpf_map_lookup_elem(&ct, &r))
		return 1;
	if (isolated && !policy_allows(ep, dir == INGRESS ? k.saddr : k.daddr, &k, dir))
		return 0;
	e.created = bpf_ktime_get_ns();
	bpf_map_update_elem(&ct, &k, &e, BPF_ANY);
	return 1;
}

/*
 * Into the pod's own eth0, if its ingress policy allows: received there next. At a tc ingress hook
 * (`at_ingress`) past its host end (bpf_redirect_peer); else (from_netkit) through its host end's
 * transmit (bpf_redirect), which hands the packet to the pod's end.
 */
static __always_inline int deliver(struct __sk_buff *skb, enum program p, struct iphdr *ip, struct endpoint *ep,
				   int at_ingress)
{
	__u8 mac[ETH_ALEN], node_mac[ETH_ALEN];
	__u32 ifindex = ep->ifindex;

	if (!policy_verdict(skb, ip, ip->daddr, INGRESS))
		return count(skb, p, DROP, TC_ACT_SHOT);

	__builtin_memcpy(mac, ep->mac, ETH_ALEN);
	__builtin_memcpy(node_mac, ep->node_mac, ETH_ALEN);
	ttl_down(ip);
	set_macs(skb, mac, node_mac);
	if (!at_ingress) {
		count(skb, p, REDIRECT, 0);
		return bpf_redirect(ifindex, 0);
	}
	count(skb, p, REDIRECT_PEER, 0);
	return bpf_redirect_peer(ifindex, 0);
}

/* ---- IPv6 ------------------------------------------------------------------------------------ */

/* The Ethernet and IPv6 headers, in the linear part of the packet; NULL for anything else. */
static __always_inline struct ipv6hdr *ipv6(struct __sk_buff *skb)
{
	struct ethhdr *eth;
	struct ipv6hdr *ip6;

	/* read data and data_end afresh: reusing ipv4()'s loads, clang does arithmetic on data_end
	 * (a zero extension where its paths merge), which the verifier refuses */
	asm volatile("" ::: "memory");
	eth = (void *)(long)skb->data;
	ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > (void *)(long)skb->data_end) {
		if (bpf_skb_pull_data(skb, sizeof(*eth) + sizeof(*ip6)) < 0)
			return NULL;
		eth = (void *)(long)skb->data;
		ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > (void *)(long)skb->data_end)
			return NULL;
	}
	if (eth->h_proto != bpf_htons(ETH_P_IPV6))
		return NULL;
	return ip6;
}

#define ICMPV6_ROUTER_SOLICIT 133
#define ICMPV6_REDIRECT 137

/*
 * Whether the programs may carry this IPv6 packet: not for a link-local (fe80::/10) or multicast
 * (ff00::/8) address — neighbour and router discovery, which the stack must see —, not ICMPv6
 * neighbour discovery of any address (types 133–137), and with a hop left after this one. The
 * rest of the address space is the pods' and the nodes'.
 */
static __always_inline int routable6(struct __sk_buff *skb, struct ipv6hdr *ip6)
{
	__u8 first = ip6->daddr.in6_u.u6_addr8[0];
	__u8 second = ip6->daddr.in6_u.u6_addr8[1];
	__u8 type;

	if (ip6->hop_limit <= 1)
		return 0;
	if (first == 0xff || (first == 0xfe && (second & 0xc0) == 0x80))
		return 0;
	if (ip6->nexthdr == IPPROTO_ICMPV6) {
		if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr) + sizeof(struct ipv6hdr), &type, 1) < 0)
			return 0;
		if (type >= ICMPV6_ROUTER_SOLICIT && type <= ICMPV6_REDIRECT)
			return 0;
	}
	return 1;
}

/* Into the pod's own eth0, as deliver() (IPv6: no policy, see the top of this file). */
static __always_inline int deliver6(struct __sk_buff *skb, enum program p, struct ipv6hdr *ip6,
				    struct endpoint *ep, int at_ingress)
{
	__u8 mac[ETH_ALEN], node_mac[ETH_ALEN];
	__u32 ifindex = ep->ifindex;

	__builtin_memcpy(mac, ep->mac, ETH_ALEN);
	__builtin_memcpy(node_mac, ep->node_mac, ETH_ALEN);
	ip6->hop_limit--; /* no header checksum in IPv6 */
	set_macs(skb, mac, node_mac);
	if (!at_ingress) {
		count(skb, p, REDIRECT, 0);
		return bpf_redirect(ifindex, 0);
	}
	count(skb, p, REDIRECT_PEER, 0);
	return bpf_redirect_peer(ifindex, 0);
}

/* from_netdev / from_tunnel for IPv6: a packet for a pod of this node goes straight to it. */
static __always_inline int to_local_pod6(struct __sk_buff *skb, enum program p)
{
	struct ipv6hdr *ip6 = ipv6(skb);
	struct in6_addr dst;
	struct endpoint *ep;

	if (!ip6 || !routable6(skb, ip6))
		return count(skb, p, PASS, TC_ACT_OK);
	/* routable6 may have read the packet: the pointers are checked again */
	ip6 = ipv6(skb);
	if (!ip6)
		return count(skb, p, PASS, TC_ACT_OK);
	__builtin_memcpy(&dst, &ip6->daddr, sizeof(dst));
	ep = bpf_map_lookup_elem(&endpoints6, &dst);
	if (!ep)
		return count(skb, p, PASS, TC_ACT_OK);
	return deliver6(skb, p, ip6, ep, 1);
}

/*
 * The pod's host end, where a fib lookup starts: the device the packet came in on at a tc ingress
 * hook; in a netkit end's transmit, the device the packet is being handed to (netkit sets skb->dev
 * to the primary end before its program runs; a packet the pod made came in on nothing).
 */
static __always_inline __u32 pod_ifindex(struct __sk_buff *skb, int at_ingress)
{
	return at_ingress ? skb->ingress_ifindex : skb->ifindex;
}

/* from_pod (or from_netkit, `p`) for IPv6: another local pod, else the route's device. */
static __always_inline int from_pod6(struct __sk_buff *skb, enum program p, int at_ingress)
{
	struct bpf_fib_lookup fib = {};
	struct ipv6hdr *ip6 = ipv6(skb);
	struct in6_addr dst;
	struct endpoint *ep;
	int rc;

	if (!ip6 || !routable6(skb, ip6))
		return count(skb, p, PASS, TC_ACT_OK);
	ip6 = ipv6(skb);
	if (!ip6)
		return count(skb, p, PASS, TC_ACT_OK);
	__builtin_memcpy(&dst, &ip6->daddr, sizeof(dst));
	ep = bpf_map_lookup_elem(&endpoints6, &dst);
	if (ep)
		return deliver6(skb, p, ip6, ep, at_ingress);

	fib.family = AF_INET6;
	/* the flow label (the low 20 bits of the first word) and traffic class, as the stack hashes */
	fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
	fib.l4_protocol = ip6->nexthdr;
	__builtin_memcpy(fib.ipv6_src, &ip6->saddr, sizeof(fib.ipv6_src));
	__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, sizeof(fib.ipv6_dst));
	fib.ifindex = pod_ifindex(skb, at_ingress);
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return count(skb, p, PASS, TC_ACT_OK); /* the stack decides: ICMPv6, drop */

	ip6 = ipv6(skb);
	if (!ip6)
		return count(skb, p, DROP, TC_ACT_SHOT);
	ip6->hop_limit--;
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		/* the lookup left the next hop (the gateway, or the destination itself) in ipv6_dst */
		struct bpf_redir_neigh nh = { .nh_family = AF_INET6 };

		__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, sizeof(nh.ipv6_nh));
		count(skb, p, REDIRECT_NEIGH, 0);
		return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
	}
	set_macs(skb, fib.dmac, fib.smac);
	count(skb, p, REDIRECT, 0);
	return bpf_redirect(fib.ifindex, 0);
}

/* A packet for a pod of this node goes straight to it; anything else to the stack. */
static __always_inline int to_local_pod(struct __sk_buff *skb, enum program p)
{
	struct iphdr *ip = ipv4(skb);
	struct endpoint *ep;
	__u32 dst;

	if (!ip)
		return to_local_pod6(skb, p);
	if (ip->ttl <= 1)
		return count(skb, p, PASS, TC_ACT_OK);
	dst = ip->daddr;
	ep = bpf_map_lookup_elem(&endpoints, &dst);
	if (!ep)
		return count(skb, p, PASS, TC_ACT_OK);
	return deliver(skb, p, ip, ep, 1);
}

/* A pod's packet, from its host end's tc ingress (from_pod) or its netkit end's transmit (from_netkit). */
static __always_inline int pod_egress(struct __sk_buff *skb, enum program p, int at_ingress)
{
	struct bpf_fib_lookup fib = {};
	struct iphdr *ip = ipv4(skb);
	struct endpoint *ep;
	__u32 dst;
	int rc;

	if (!ip)
		return from_pod6(skb, p, at_ingress);
	if (!policy_verdict(skb, ip, ip->saddr, EGRESS))
		return count(skb, p, DROP, TC_ACT_SHOT);
	if (ip->ttl <= 1)
		return count(skb, p, PASS, TC_ACT_OK);
	dst = ip->daddr;
	ep = bpf_map_lookup_elem(&endpoints, &dst);
	if (ep)
		return deliver(skb, p, ip, ep, at_ingress);

	fib.family = AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	/* tot_len stays 0: the kernel then checks the skb itself against the route's MTU, which
	 * knows a GSO super-packet is segmented later (a tot_len of 64 KB would be "too big") */
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = pod_ifindex(skb, at_ingress);
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return count(skb, p, PASS, TC_ACT_OK); /* the stack decides: ICMP, drop, fragment */

	/* the helper call invalidated the packet pointers */
	ip = ipv4(skb);
	if (!ip)
		return count(skb, p, DROP, TC_ACT_SHOT);
	ttl_down(ip);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		struct bpf_redir_neigh nh = { .nh_family = AF_INET, .ipv4_nh = fib.ipv4_dst };

		count(skb, p, REDIRECT_NEIGH, 0);
		return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
	}
	set_macs(skb, fib.dmac, fib.smac);
	count(skb, p, REDIRECT, 0);
	return bpf_redirect(fib.ifindex, 0);
}

SEC("tc")
int from_pod(struct __sk_buff *skb)
{
	return pod_egress(skb, FROM_POD, 1);
}

SEC("tc")
int from_netdev(struct __sk_buff *skb)
{
	return to_local_pod(skb, FROM_NETDEV);
}

SEC("tc")
int from_tunnel(struct __sk_buff *skb)
{
	return to_local_pod(skb, FROM_TUNNEL);
}

SEC("tc")
int from_netkit(struct __sk_buff *skb)
{
	return pod_egress(skb, FROM_NETKIT, 0);
}

char _license[] SEC("license") = "Dual BSD/GPL";
