import { describe, expect, it } from 'vitest';
import { TransferAdmission } from './transfer-admission.js';

describe('TransferAdmission', () => {
  it('holds transfers beyond the budget until bytes are released, first come first served', () => {
    const admission = new TransferAdmission(100);
    const granted: string[] = [];
    const a = admission.admit(60, () => granted.push('a'));
    admission.admit(60, () => granted.push('b'));
    admission.admit(30, () => granted.push('c'));
    expect(granted).toEqual(['a']);
    expect(admission.reservedBytes).toBe(60);
    expect(admission.waiting).toBe(2);
    a();
    a();
    expect(granted).toEqual(['a', 'b', 'c']);
    expect(admission.reservedBytes).toBe(90);
  });

  it('admits a transfer larger than the whole budget when it is alone, and forgets a cancelled one', () => {
    const admission = new TransferAdmission(10);
    const granted: string[] = [];
    const big = admission.admit(50, () => granted.push('big'));
    const cancelled = admission.admit(5, () => granted.push('cancelled'));
    admission.admit(5, () => granted.push('next'));
    cancelled();
    expect(granted).toEqual(['big']);
    big();
    expect(granted).toEqual(['big', 'next']);
    expect(admission.reservedBytes).toBe(5);
    expect(admission.waiting).toBe(0);
  });
});
