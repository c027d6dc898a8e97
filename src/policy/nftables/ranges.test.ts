// The address arithmetic of the nftables design's peer sets: blocks less excepts, merging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockRanges, cidrRange, element, mergeRanges, peerRanges } from './ranges';

const show = (rs: readonly { from: number; to: number }[]): string[] => rs.map(element);

test('a CIDR is its range; an address alone is itself; host bits are ignored', () => {
  assert.deepEqual(show([cidrRange('10.0.0.0/8')]), ['10.0.0.0-10.255.255.255']);
  assert.deepEqual(show([cidrRange('10.244.1.2')]), ['10.244.1.2']);
  assert.deepEqual(show([cidrRange('10.244.1.7/30')]), ['10.244.1.4-10.244.1.7']);
  assert.deepEqual(show([cidrRange('0.0.0.0/0')]), ['0.0.0.0-255.255.255.255']);
});

test('a block less one except in its middle is the two sides', () => {
  assert.deepEqual(show(blockRanges({ cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] })), [
    '10.0.0.0-10.0.0.255',
    '10.0.2.0-10.0.255.255',
  ]);
});

test('excepts at the edges, overlapping, adjacent, outside, or the whole block', () => {
  const b = (except: string[]): string[] => show(blockRanges({ cidr: '10.0.0.0/24', except }));
  assert.deepEqual(b(['10.0.0.0/25']), ['10.0.0.128-10.0.0.255']);
  assert.deepEqual(b(['10.0.0.128/25']), ['10.0.0.0-10.0.0.127']);
  assert.deepEqual(b(['10.0.0.0/26', '10.0.0.32/27', '10.0.0.64/26']), ['10.0.0.128-10.0.0.255']);
  assert.deepEqual(b(['192.168.0.0/16']), ['10.0.0.0-10.0.0.255']);
  assert.deepEqual(b(['10.0.0.0/24']), []);
  assert.deepEqual(b(['10.0.0.5/32', '10.0.0.7/32']), ['10.0.0.0-10.0.0.4', '10.0.0.6', '10.0.0.8-10.0.0.255']);
  assert.deepEqual(show(blockRanges({ cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] })), [
    '0.0.0.0-9.255.255.255',
    '11.0.0.0-255.255.255.255',
  ]);
});

test('pods and blocks merge into disjoint sorted ranges (nft rejects overlaps)', () => {
  const rs = peerRanges(
    ['10.244.2.3', '10.244.1.2', '10.244.1.3', '10.0.0.9'],
    [{ cidr: '10.0.0.0/24', except: ['10.0.0.8/29'] }],
  );
  assert.deepEqual(show(rs), [
    '10.0.0.0-10.0.0.7',
    '10.0.0.9',
    '10.0.0.16-10.0.0.255',
    '10.244.1.2-10.244.1.3',
    '10.244.2.3',
  ]);
  assert.deepEqual(show(mergeRanges([])), []);
});
