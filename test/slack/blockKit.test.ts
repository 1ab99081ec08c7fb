import { describe, expect, it } from 'vitest';
import { validateMessage, validateView } from '../../dev/standin/blockKit';

const plain = (text: string) => ({ type: 'plain_text', text });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const section = (text: string, extra: Record<string, unknown> = {}) => ({
  type: 'section',
  text: mrkdwn(text),
  ...extra,
});
const button = (action_id: string, extra: Record<string, unknown> = {}) => ({
  type: 'button',
  text: plain('Go'),
  action_id,
  value: 'v',
  ...extra,
});
const actions = (elements: unknown[], extra: Record<string, unknown> = {}) => ({ type: 'actions', elements, ...extra });
const confirm = (over: Record<string, unknown> = {}) => ({
  title: plain('Deploy to prod?'),
  text: plain('This restarts every web server.'),
  confirm: plain('Deploy'),
  deny: plain('Cancel'),
  ...over,
});
const option = (i: number, over: Record<string, unknown> = {}) => ({
  text: plain(`opt ${i}`),
  value: `v${i}`,
  ...over,
});
const x = (n: number) => 'x'.repeat(n);
const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

/** A realistic deployment message that uses every block the bot sends, each at its limit. */
const goodMessage = {
  text: 'Deploy web@1.2.3 to prod',
  blocks: [
    { type: 'header', text: plain(x(150)), block_id: x(255) },
    section(x(3000), { accessory: button('details', { url: 'https://example.com/run/1' }) }),
    { type: 'section', fields: range(10, (i) => mrkdwn(i === 0 ? x(2000) : `*f${i}*`)) },
    { type: 'divider' },
    actions(
      [
        button(x(255), {
          text: plain(x(75)),
          value: x(2000),
          style: 'primary',
          confirm: confirm({ title: plain(x(100)), text: plain(x(300)), confirm: plain(x(30)), deny: plain(x(30)) }),
        }),
        ...range(23, (i) => button(`b${i}`)),
        { type: 'static_select', action_id: 'sel', placeholder: plain('Pick'), options: range(100, (i) => option(i)) },
      ],
      { block_id: 'controls' },
    ),
    actions([{ type: 'overflow', action_id: 'more', options: range(5, (i) => option(i)) }]),
    {
      type: 'context',
      elements: range(9, (i) => mrkdwn(`c${i}`)).concat([
        { type: 'image', image_url: 'https://example.com/i.png', alt_text: 'status' } as never,
      ]),
    },
    { type: 'image', image_url: 'https://example.com/graph.png', alt_text: 'graph', title: plain('Latency') },
    { type: 'input', label: plain('Reason'), element: { type: 'plain_text_input', action_id: 'reason' } },
    { type: 'markdown', text: x(12_000) },
    { type: 'rich_text', elements: [] },
  ],
};

describe('validateMessage: accepted messages', () => {
  it('accepts a message using every block kind at its limit', () => {
    expect(validateMessage(goodMessage)).toEqual([]);
  });
  it('accepts text only, blocks only, and exactly 50 blocks', () => {
    expect(validateMessage({ text: 'hello' })).toEqual([]);
    expect(validateMessage({ blocks: [section('hi')] })).toEqual([]);
    expect(validateMessage({ blocks: range(50, (i) => section(`s${i}`)) })).toEqual([]);
    expect(validateMessage({ text: x(40_000) })).toEqual([]);
  });
});

type Case = [name: string, message: Record<string, unknown>, expected: string];

const cases: Case[] = [
  ['more than 50 blocks', { blocks: range(51, (i) => section(`s${i}`)) }, 'blocks: more than 50 blocks (51)'],
  ['section text over 3000', { blocks: [section(x(3001))] }, 'blocks[0].text.text: longer than 3000 (3001)'],
  [
    'more than 10 section fields',
    { blocks: [{ type: 'section', fields: range(11, (i) => mrkdwn(`f${i}`)) }] },
    'blocks[0].fields: more than 10 fields (11)',
  ],
  [
    'section field over 2000',
    { blocks: [{ type: 'section', fields: [mrkdwn('a'), mrkdwn('b'), mrkdwn(x(2001))] }] },
    'blocks[0].fields[2].text: longer than 2000 (2001)',
  ],
  ['section with neither text nor fields', { blocks: [{ type: 'section' }] }, 'blocks[0]: needs text or fields'],
  ['empty text object', { blocks: [section('')] }, 'blocks[0].text.text: must not be empty'],
  [
    'text object of an unknown type',
    { blocks: [{ type: 'section', text: { type: 'html', text: 'x' } }] },
    'blocks[0].text.type: must be plain_text or mrkdwn',
  ],
  [
    'header text not plain_text',
    { blocks: [{ type: 'header', text: mrkdwn('*Deploy*') }] },
    'blocks[0].text.type: must be plain_text',
  ],
  [
    'header text over 150',
    { blocks: [{ type: 'header', text: plain(x(151)) }] },
    'blocks[0].text.text: longer than 150 (151)',
  ],
  ['header without text', { blocks: [{ type: 'header' }] }, 'blocks[0].text: required'],
  [
    'button text not plain_text',
    { blocks: [actions([button('a', { text: mrkdwn('*Go*') })])] },
    'blocks[0].elements[0].text.type: must be plain_text',
  ],
  [
    'button text over 75',
    { blocks: [actions([button('a', { text: plain(x(76)) })])] },
    'blocks[0].elements[0].text.text: longer than 75 (76)',
  ],
  [
    'button value over 2000',
    { blocks: [actions([button('a', { value: x(2001) })])] },
    'blocks[0].elements[0].value: longer than 2000 (2001)',
  ],
  [
    'button url over 3000',
    { blocks: [actions([button('a', { url: `https://e.com/${x(3000)}` })])] },
    'blocks[0].elements[0].url: longer than 3000 (3014)',
  ],
  [
    'button style unknown',
    { blocks: [actions([button('a', { style: 'warning' })])] },
    'blocks[0].elements[0].style: must be primary or danger',
  ],
  [
    'action_id over 255',
    { blocks: [section('a'), section('b'), section('c'), actions([button('ok'), button(x(256))])] },
    'blocks[3].elements[1].action_id: longer than 255 (256)',
  ],
  ['block_id over 255', { blocks: [section('a', { block_id: x(256) })] }, 'blocks[0].block_id: longer than 255 (256)'],
  [
    'duplicate action_id within one actions block',
    { blocks: [actions([button('go'), button('go')])] },
    'blocks[0].elements[1].action_id: duplicate action_id "go" within this block (also at blocks[0].elements[0])',
  ],
  [
    'duplicate action_id within the message',
    { blocks: [actions([button('go')]), section('s', { accessory: button('go') })] },
    'blocks[1].accessory.action_id: duplicate action_id "go" within the message (also at blocks[0].elements[0])',
  ],
  [
    'duplicate block_id within the message',
    { blocks: [section('a', { block_id: 'b1' }), section('b', { block_id: 'b1' })] },
    'blocks[1].block_id: duplicate block_id "b1" (also at blocks[0])',
  ],
  [
    'more than 25 elements in an actions block',
    { blocks: [actions(range(26, (i) => button(`b${i}`)))] },
    'blocks[0].elements: more than 25 elements in an actions block (26)',
  ],
  ['empty actions block', { blocks: [actions([])] }, 'blocks[0].elements: must not be empty'],
  [
    'more than 10 elements in a context block',
    { blocks: [{ type: 'context', elements: range(11, (i) => mrkdwn(`c${i}`)) }] },
    'blocks[0].elements: more than 10 elements in a context block (11)',
  ],
  [
    'button inside a context block',
    { blocks: [{ type: 'context', elements: [button('a')] }] },
    'blocks[0].elements[0].type: "button" is not allowed in a context block',
  ],
  [
    'image inside an actions block',
    { blocks: [actions([{ type: 'image', image_url: 'https://e.com/i.png', alt_text: 'i' }])] },
    'blocks[0].elements[0].type: "image" is not allowed here',
  ],
  [
    'unknown element type',
    { blocks: [actions([{ type: 'slider', action_id: 's' }])] },
    'blocks[0].elements[0].type: unknown element type "slider"',
  ],
  [
    'unknown block type',
    { blocks: [section('a'), { type: 'carousel' }] },
    'blocks[1].type: unknown block type "carousel"',
  ],
  ['block without a type', { blocks: [{ text: mrkdwn('a') }] }, 'blocks[0].type: required'],
  ['neither text nor blocks', {}, 'message: needs text or blocks'],
  ['empty text and empty blocks', { text: '', blocks: [] }, 'message: needs text or blocks'],
  ['blocks not an array', { text: 'a', blocks: { type: 'section' } }, 'blocks: must be an array'],
  ['text over 40000', { text: x(40_001) }, 'text: longer than 40000 (40001)'],
  [
    'confirm title over 100',
    { blocks: [actions([button('a', { confirm: confirm({ title: plain(x(101)) }) })])] },
    'blocks[0].elements[0].confirm.title.text: longer than 100 (101)',
  ],
  [
    'confirm title not plain_text',
    { blocks: [actions([button('a', { confirm: confirm({ title: mrkdwn('t') }) })])] },
    'blocks[0].elements[0].confirm.title.type: must be plain_text',
  ],
  [
    'confirm text over 300',
    { blocks: [actions([button('a', { confirm: confirm({ text: plain(x(301)) }) })])] },
    'blocks[0].elements[0].confirm.text.text: longer than 300 (301)',
  ],
  [
    'confirm button over 30',
    { blocks: [actions([button('a', { confirm: confirm({ confirm: plain(x(31)) }) })])] },
    'blocks[0].elements[0].confirm.confirm.text: longer than 30 (31)',
  ],
  [
    'deny button over 30',
    { blocks: [actions([button('a', { confirm: confirm({ deny: plain(x(31)) }) })])] },
    'blocks[0].elements[0].confirm.deny.text: longer than 30 (31)',
  ],
  [
    'confirm without deny',
    { blocks: [actions([button('a', { confirm: confirm({ deny: undefined }) })])] },
    'blocks[0].elements[0].confirm.deny: required',
  ],
  [
    'confirm style unknown',
    { blocks: [actions([button('a', { confirm: confirm({ style: 'loud' }) })])] },
    'blocks[0].elements[0].confirm.style: must be primary or danger',
  ],
  [
    'select with more than 100 options',
    { blocks: [actions([{ type: 'static_select', action_id: 's', options: range(101, (i) => option(i)) }])] },
    'blocks[0].elements[0].options: more than 100 options (101)',
  ],
  [
    'static select without options',
    { blocks: [actions([{ type: 'static_select', action_id: 's' }])] },
    'blocks[0].elements[0]: needs options or option_groups',
  ],
  [
    'select placeholder over 150',
    { blocks: [actions([{ type: 'users_select', action_id: 'u', placeholder: plain(x(151)) }])] },
    'blocks[0].elements[0].placeholder.text: longer than 150 (151)',
  ],
  [
    'overflow with more than 5 options',
    { blocks: [actions([{ type: 'overflow', action_id: 'o', options: range(6, (i) => option(i)) }])] },
    'blocks[0].elements[0].options: more than 5 options (6)',
  ],
  [
    'radio buttons with more than 10 options',
    { blocks: [actions([{ type: 'radio_buttons', action_id: 'r', options: range(11, (i) => option(i)) }])] },
    'blocks[0].elements[0].options: more than 10 options (11)',
  ],
  [
    'option text over 75',
    { blocks: [actions([{ type: 'overflow', action_id: 'o', options: [option(0, { text: plain(x(76)) })] }])] },
    'blocks[0].elements[0].options[0].text.text: longer than 75 (76)',
  ],
  [
    'option value over 150',
    { blocks: [actions([{ type: 'overflow', action_id: 'o', options: [option(0, { value: x(151) })] }])] },
    'blocks[0].elements[0].options[0].value: longer than 150 (151)',
  ],
  [
    'image block without alt_text',
    { blocks: [{ type: 'image', image_url: 'https://e.com/i.png' }] },
    'blocks[0].alt_text: required',
  ],
  [
    'image block alt_text over 2000',
    { blocks: [{ type: 'image', image_url: 'https://e.com/i.png', alt_text: x(2001) }] },
    'blocks[0].alt_text: longer than 2000 (2001)',
  ],
  [
    'input block without label',
    { blocks: [{ type: 'input', element: { type: 'plain_text_input', action_id: 'r' } }] },
    'blocks[0].label: required',
  ],
  [
    'markdown block over 12000',
    { blocks: [{ type: 'markdown', text: x(12_001) }] },
    'blocks[0].text: longer than 12000 (12001)',
  ],
];

describe('validateMessage: refused messages (one per limit)', () => {
  it.each(cases)('refuses %s', (_name, message, expected) => {
    const problems = validateMessage(message);
    expect(problems).toContain(expected);
  });

  it('reports every problem of a message, each with its path', () => {
    const problems = validateMessage({
      blocks: [{ type: 'header', text: plain(x(151)) }, actions([button(x(256), { value: x(2001) })])],
    });
    expect(problems).toEqual([
      'blocks[0].text.text: longer than 150 (151)',
      'blocks[1].elements[0].action_id: longer than 255 (256)',
      'blocks[1].elements[0].value: longer than 2000 (2001)',
    ]);
  });
});

describe('validateView', () => {
  const modal = (over: Record<string, unknown> = {}) => ({
    type: 'modal',
    title: plain('Deploy'),
    submit: plain('Start'),
    close: plain('Cancel'),
    callback_id: 'deploy',
    blocks: [{ type: 'input', label: plain('Version'), element: { type: 'plain_text_input', action_id: 'version' } }],
    ...over,
  });

  it('accepts a modal with inputs and 100 blocks', () => {
    expect(validateView(modal())).toEqual([]);
    expect(validateView(modal({ blocks: range(100, (i) => section(`s${i}`)) }))).toEqual([]);
  });

  it.each<Case>([
    ['title over 24', modal({ title: plain(x(25)) }), 'view.title.text: longer than 24 (25)'],
    ['modal without title', modal({ title: undefined }), 'view.title: required'],
    ['submit over 24', modal({ submit: plain(x(25)) }), 'view.submit.text: longer than 24 (25)'],
    ['close over 24', modal({ close: plain(x(25)) }), 'view.close.text: longer than 24 (25)'],
    [
      'input blocks without submit',
      modal({ submit: undefined }),
      'view.submit: required when the view has input blocks',
    ],
    [
      'more than 100 blocks',
      modal({ blocks: range(101, (i) => section(`s${i}`)) }),
      'view.blocks: more than 100 blocks (101)',
    ],
    ['unknown view type', modal({ type: 'popup' }), 'view.type: must be modal or home'],
    ['callback_id over 255', modal({ callback_id: x(256) }), 'view.callback_id: longer than 255 (256)'],
    [
      'private_metadata over 3000',
      modal({ private_metadata: x(3001) }),
      'view.private_metadata: longer than 3000 (3001)',
    ],
    [
      'a block problem, with its view path',
      modal({ blocks: [section(x(3001))] }),
      'view.blocks[0].text.text: longer than 3000 (3001)',
    ],
  ])('refuses %s', (_name, view, expected) => {
    expect(validateView(view)).toContain(expected);
  });
});
