/**
 * Every registered architecture against the lab contract (arch-contract.ts): the registry is the
 * list, so a kind is tested the day it is registered; one missing a kernel feature here skips
 * with the doctor's reason.
 */
import { archContract } from './arch-contract';

archContract('t-ct');
