import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, IFA, IFA_F_DADFAILED, IFA_F_TENTATIVE, ifaddrmsg, parseAddrMsg, u32Attr } from './codec';

const local = Buffer.from('fd000000000000000000000000000002', 'hex');

test('parseAddrMsg: DAD flags from IFA_FLAGS when sent, else from the header', () => {
  const withAttr = Buffer.concat([ifaddrmsg(6, 64, 3, 0), attr(IFA.LOCAL, local), u32Attr(IFA.FLAGS, IFA_F_TENTATIVE)]);
  const a = parseAddrMsg(withAttr, 0, withAttr.length)!;
  assert.deepEqual([a.local, a.prefixlen, a.index, a.flags & IFA_F_TENTATIVE], ['fd00::2', 64, 3, IFA_F_TENTATIVE]);
  const header = Buffer.concat([ifaddrmsg(6, 64, 3, IFA_F_DADFAILED), attr(IFA.LOCAL, local)]);
  assert.equal(parseAddrMsg(header, 0, header.length)!.flags, IFA_F_DADFAILED);
});
