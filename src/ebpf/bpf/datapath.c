// SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0)
/*
 * cnilab's eBPF data path: tc (clsact) programs on a node, in the style of Cilium's "eBPF host
 * routing". Pods sit on veths without a bridge; these programs move their IPv4 packets past the
 * node's IP stack (routing decision, netfilter, neighbour queue on the way in):
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
 *
 * Whatever these programs do not handle (ARP, IPv6, TTL about to expire, no route) goes to the
 * stack unchanged (TC_ACT_OK), which handles it as it would without them.
 *
 * The node agent loads this object once per node (bpftool), pinning the programs and the two
 * maps in the lab's own bpffs; the CNI plugin attaches from_pod to each pod's veth and adds the
 * pod to `endpoints`. src/ebpf/maps.ts encodes the same layouts (test/unit checks them against
 * this object's BTF).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2

/* A pod of this node, by its IPv4 address. */
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

/* The counters' key is program * ACTIONS + action. Keep in step with src/ebpf/maps.ts. */
enum program { FROM_POD, FROM_NETDEV, FROM_TUNNEL, PROGRAMS };
enum action { REDIRECT_PEER, REDIRECT_NEIGH, REDIRECT, PASS, DROP, ACTIONS };

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

/* Into the pod's own eth0, past its host-side veth: the packet is received there next. */
static __always_inline int deliver(struct __sk_buff *skb, enum program p, struct iphdr *ip, struct endpoint *ep)
{
	__u8 mac[ETH_ALEN], node_mac[ETH_ALEN];
	__u32 ifindex = ep->ifindex;

	__builtin_memcpy(mac, ep->mac, ETH_ALEN);
	__builtin_memcpy(node_mac, ep->node_mac, ETH_ALEN);
	ttl_down(ip);
	set_macs(skb, mac, node_mac);
	count(skb, p, REDIRECT_PEER, 0);
	return bpf_redirect_peer(ifindex, 0);
}

/* A packet for a pod of this node goes straight to it; anything else to the stack. */
static __always_inline int to_local_pod(struct __sk_buff *skb, enum program p)
{
	struct iphdr *ip = ipv4(skb);
	struct endpoint *ep;
	__u32 dst;

	if (!ip || ip->ttl <= 1)
		return count(skb, p, PASS, TC_ACT_OK);
	dst = ip->daddr;
	ep = bpf_map_lookup_elem(&endpoints, &dst);
	if (!ep)
		return count(skb, p, PASS, TC_ACT_OK);
	return deliver(skb, p, ip, ep);
}

SEC("tc")
int from_pod(struct __sk_buff *skb)
{
	struct bpf_fib_lookup fib = {};
	struct iphdr *ip = ipv4(skb);
	struct endpoint *ep;
	__u32 dst;
	int rc;

	if (!ip || ip->ttl <= 1)
		return count(skb, FROM_POD, PASS, TC_ACT_OK);
	dst = ip->daddr;
	ep = bpf_map_lookup_elem(&endpoints, &dst);
	if (ep)
		return deliver(skb, FROM_POD, ip, ep);

	fib.family = AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	/* tot_len stays 0: the kernel then checks the skb itself against the route's MTU, which
	 * knows a GSO super-packet is segmented later (a tot_len of 64 KB would be "too big") */
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = skb->ingress_ifindex;
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return count(skb, FROM_POD, PASS, TC_ACT_OK); /* the stack decides: ICMP, drop, fragment */

	/* the helper call invalidated the packet pointers */
	ip = ipv4(skb);
	if (!ip)
		return count(skb, FROM_POD, DROP, TC_ACT_SHOT);
	ttl_down(ip);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		struct bpf_redir_neigh nh = { .nh_family = AF_INET, .ipv4_nh = fib.ipv4_dst };

		count(skb, FROM_POD, REDIRECT_NEIGH, 0);
		return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
	}
	set_macs(skb, fib.dmac, fib.smac);
	count(skb, FROM_POD, REDIRECT, 0);
	return bpf_redirect(fib.ifindex, 0);
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

char _license[] SEC("license") = "Dual BSD/GPL";
