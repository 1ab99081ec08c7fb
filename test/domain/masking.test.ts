import { describe, expect, it } from 'vitest';
import { Masker, MASK, maskText, parseMaskLine } from '../../domain/masking';
import { OutputCollector } from '../../activities/transports/remoteCommand';

describe('maskText', () => {
  it('replaces every occurrence, longest value first', () => {
    expect(maskText('a hunter2 b hunter2hunter', ['hunter2', 'hunter2hunter'])).toBe('a *** b ***');
    expect(maskText('nothing here', ['hunter2'])).toBe('nothing here');
  });

  it('ignores values shorter than 3 characters (and keeps the text)', () => {
    expect(maskText('ab abc', ['ab'])).toBe('ab abc');
  });

  it('masks the end of a value at the start of a cut tail only when told the tail was cut', () => {
    expect(maskText('ter2 and more', ['hunter2'], { cutStart: true })).toBe(`${MASK} and more`);
    expect(maskText('ter2 and more', ['hunter2'])).toBe('ter2 and more');
  });

  it('masks a value split across output chunks (on the assembled tail)', () => {
    const c = new OutputCollector();
    for (const chunk of ['pass=s3cr', 'et-val', 'ue done\n']) c.push('stdout', Buffer.from(chunk));
    c.finish();
    const m = new Masker(['s3cret-value']);
    expect(m.mask(c.stdoutTail)).toBe('pass=*** done\n');
  });
});

describe('Masker', () => {
  it('masks each line of a multi-line value too', () => {
    const m = new Masker(['line-one\nline-two']);
    expect(m.mask('x line-two y')).toBe('x *** y');
  });

  it('masks record values (output variables)', () => {
    expect(new Masker(['s3cret']).maskRecord({ a: 's3cret', b: 'plain', c: 'pre-s3cret' })).toEqual({
      a: MASK,
      b: 'plain',
      c: `pre-${MASK}`,
    });
  });
});

describe('parseMaskLine', () => {
  it.each([
    ["##rollout[mask value='abc']", 'abc'],
    ["##rollout[mask value='it\\'s \\\\ here']", "it's \\ here"],
    ['##rollout[mask raw-value]', 'raw-value'],
    ['##rollout[mask with ] bracket]', 'with ] bracket'],
    ['##rollout[mask value]\r', 'value'],
  ])('%s → %s', (line, value) => {
    expect(parseMaskLine(line)).toBe(value);
  });

  it.each(['echo ##rollout[mask x]', "##rollout[setOutput name='a' value='b']", '##rollout[mask ]', ''])(
    'not a mask line: %s',
    (line) => {
      expect(parseMaskLine(line)).toBeUndefined();
    },
  );
});
