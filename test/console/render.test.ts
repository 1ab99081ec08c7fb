// The console's mrkdwn and Block Kit renderers (dev/console/mrkdwn.js, blocks.js: the same modules the page loads).
import { describe, expect, it } from 'vitest';
import { blockHtml, messageBodyHtml, messageHtml } from '../../dev/console/blocks.js';
import { escapeHtml, mrkdwnToHtml, plainTextToHtml, textObjectToHtml } from '../../dev/console/mrkdwn.js';
import {
  ACTION_DECIDE_EXCLUDE,
  ACTION_DECIDE_RETRY,
  BLOCK_DECISION_ACTIONS,
  failureCard,
} from '../../activities/slack/blocks';

// The bot's own failure card (what the console must show in the demo).
const card = failureCard('rollout-1', {
  id: 'd1',
  kind: 'failure',
  step: 'deploy',
  target: 'web3',
  childStep: 'health <check>',
  exitCode: 7,
  tail: 'curl: (7) Failed <connect> & retry\n```nested```',
  createdAt: '2026-01-01T00:00:00Z',
  choices: ['fail', 'retry', 'ignore', 'exclude'],
});

const users = { U1: 'alice', U0LOCALBOT: 'rollout' };

describe('mrkdwn → HTML', () => {
  it.each([
    ['*bold*', '<strong>bold</strong>'],
    ['_italic_', '<em>italic</em>'],
    ['~strike~', '<del>strike</del>'],
    ['`code`', '<code>code</code>'],
    ['*_both_*', '<strong><em>both</em></strong>'],
    ['a *b* c', 'a <strong>b</strong> c'],
    ['(*b*).', '(<strong>b</strong>).'],
    ['line 1\nline 2', 'line 1<br>line 2'],
    ['a\n\nb', 'a<br><br>b'],
    ['&amp; &lt;b&gt;', '&amp; &lt;b&gt;'],
    ['&amp;lt;', '&amp;lt;'],
  ])('%j', (src, html) => {
    expect(mrkdwnToHtml(src)).toBe(html);
  });

  it('needs word boundaries and no inner spaces for emphasis', () => {
    expect(mrkdwnToHtml('snake_case_name 2*3*4 * not bold * a_b_')).toBe('snake_case_name 2*3*4 * not bold * a_b_');
    expect(mrkdwnToHtml('*multi\nline*')).toBe('*multi<br>line*');
  });

  it('does not format inside code spans and code blocks', () => {
    expect(mrkdwnToHtml('`*x* _y_`')).toBe('<code>*x* _y_</code>');
    expect(mrkdwnToHtml('before\n```\n*x* &lt;tag&gt; &amp;\n  indented\n```\nafter')).toBe(
      'before<pre class="code-block"><code>*x* &lt;tag&gt; &amp;\n  indented</code></pre>after',
    );
    expect(mrkdwnToHtml('```one```')).toBe('<pre class="code-block"><code>one</code></pre>');
  });

  it('renders links with labels, bare links, and refuses unsafe schemes', () => {
    expect(mrkdwnToHtml('<https://x.test/a?b=1&amp;c=2|the *label*>')).toBe(
      '<a href="https://x.test/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">the *label*</a>',
    );
    expect(mrkdwnToHtml('<https://x.test>')).toBe(
      '<a href="https://x.test" target="_blank" rel="noopener noreferrer">https://x.test</a>',
    );
    expect(mrkdwnToHtml('<mailto:a@b.test|mail>')).toContain('href="mailto:a@b.test"');
    expect(mrkdwnToHtml('<javascript:alert(1)|click>')).toBe('click');
    expect(mrkdwnToHtml('<https://x.test/"onmouseover="alert(1)|x>')).toBe(
      '<a href="https://x.test/&quot;onmouseover=&quot;alert(1)" target="_blank" rel="noopener noreferrer">x</a>',
    );
  });

  it('renders user, channel and special mentions by name', () => {
    expect(mrkdwnToHtml('hi <@U1> and <@U9|bob> and <@U7>', { users })).toBe(
      'hi <span class="mention" data-user-id="U1">@alice</span> and <span class="mention" data-user-id="U9">@bob</span> and <span class="mention" data-user-id="U7">@U7</span>',
    );
    expect(mrkdwnToHtml('<#C1|deploys> <!here> <!subteam^S1|@oncall> <!date^1700000000^{date}|Nov 14>')).toBe(
      '<span class="mention channel-mention" data-channel-id="C1">#deploys</span> <span class="mention special-mention">@here</span> <span class="mention special-mention">@oncall</span> <span class="mention special-mention">Nov 14</span>',
    );
  });

  it('renders quotes and known emoji, and leaves unknown shortcodes and times alone', () => {
    expect(mrkdwnToHtml('&gt; quoted\n&gt; *more*\nafter')).toBe(
      '<blockquote>quoted<br><strong>more</strong></blockquote>after',
    );
    expect(mrkdwnToHtml(':x: :white_check_mark: :not_an_emoji: 12:03:45')).toBe('❌ ✅ :not_an_emoji: 12:03:45');
  });

  it('escapes everything it is given (no markup from message text survives)', () => {
    const evil = '<img src=x onerror=alert(1)> "quotes" \'single\' <script>alert(1)</script>';
    const html = mrkdwnToHtml(evil);
    expect(html).not.toMatch(/<(img|script)/i);
    expect(mrkdwnToHtml('&lt;script&gt;alert(1)&lt;/script&gt;')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(plainTextToHtml('<b>x</b> & :x:')).toBe('&lt;b&gt;x&lt;/b&gt; &amp; ❌');
    expect(plainTextToHtml(':x:', false)).toBe(':x:');
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
    expect(textObjectToHtml({ type: 'plain_text', text: '*not bold*' })).toBe('*not bold*');
    expect(textObjectToHtml({ type: 'mrkdwn', text: '*bold*' })).toBe('<strong>bold</strong>');
  });
});

describe('Block Kit → HTML', () => {
  it('renders header, section text and fields, context, divider, image', () => {
    expect(
      blockHtml({ type: 'header', block_id: 'h', text: { type: 'plain_text', text: 'Rollout <web> :rocket:' } }),
    ).toBe(
      '<div class="block block-header" data-block-type="header" data-block-id="h"><div class="header-text">Rollout &lt;web&gt; 🚀</div></div>',
    );
    const section = blockHtml(
      {
        type: 'section',
        text: { type: 'mrkdwn', text: '*Step* failed' },
        fields: [
          { type: 'mrkdwn', text: '*Exit*\n2' },
          { type: 'plain_text', text: 'x' },
        ],
      },
      { users },
    );
    expect(section).toContain('<div class="section-text"><strong>Step</strong> failed</div>');
    expect(section).toContain(
      '<div class="section-fields"><div class="section-field"><strong>Exit</strong><br>2</div><div class="section-field">x</div></div>',
    );
    expect(
      blockHtml(
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: 'by <@U1>' },
            { type: 'image', image_url: 'https://i.test/a.png', alt_text: 'logo' },
          ],
        },
        { users },
      ),
    ).toContain(
      '<span class="context-element">by <span class="mention" data-user-id="U1">@alice</span></span><span class="image image-small" role="img" aria-label="logo">',
    );
    expect(blockHtml({ type: 'divider' })).toContain('<hr>');
    const image = blockHtml({
      type: 'image',
      image_url: 'https://i.test/graph.png',
      alt_text: 'error rate <5%',
      title: { type: 'plain_text', text: 'Errors' },
    });
    expect(image).toContain('🖼 error rate &lt;5%');
    expect(image).toContain('<div class="image-title">Errors</div>');
    expect(image).not.toContain('<img');
  });

  it("renders the bot's failure card: buttons with styles, ids, confirm dialogs, the output tail", () => {
    const html = messageBodyHtml(card);
    const button = (actionId: string) =>
      new RegExp(`<button [^>]*data-action-id="${actionId.replace(/\./g, '\\.')}"[^>]*>([^<]*)</button>`).exec(html);
    const exclude = button(ACTION_DECIDE_EXCLUDE)!;
    // Every button keeps the card's style (primary/danger/default) and label.
    const actions = card.blocks.find((b) => b.type === 'actions') as {
      elements: Array<{ action_id: string; style?: string; text: { text: string } }>;
    };
    expect(actions.elements.length).toBeGreaterThan(1);
    for (const el of actions.elements) {
      const b = button(el.action_id)!;
      expect(b[0]).toContain(`class="bk-button${el.style ? ` bk-button-${el.style}` : ''}"`);
      expect(b[1]).toBe(el.text.text);
    }
    expect(actions.elements.some((el) => el.style !== undefined)).toBe(true);
    expect(exclude[0]).toContain(`data-block-id="${BLOCK_DECISION_ACTIONS}"`);
    expect(exclude[1]).toBe('Exclude machine');
    const confirm = /data-confirm="([^"]+)"/.exec(exclude[0])![1]!;
    const decoded = JSON.parse(
      confirm
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&'),
    );
    expect(decoded).toMatchObject({
      title: { text: 'Exclude web3 from this rollout?' },
      confirm: { text: 'Exclude' },
      deny: { text: 'Back' },
    });
    expect(button(ACTION_DECIDE_RETRY)).not.toBeNull();
    expect(html).toContain('<pre class="code-block"><code>curl: (7) Failed &lt;connect&gt; &amp; retry');
    expect(html).toContain('health &lt;check&gt;');
    expect(html).toContain('❌ Step <strong>deploy</strong> failed on <strong>web3</strong>');
    expect(html).not.toContain('block-unknown');
  });

  it('shows unknown block and element types plainly instead of dropping them', () => {
    const html = blockHtml({ type: 'video', block_id: 'v', title: { type: 'plain_text', text: '<b>demo</b>' } });
    expect(html).toContain('class="block block-unknown" data-block-type="video"');
    expect(html).toContain('Unsupported block type <code>video</code>');
    expect(html).toContain('&lt;b&gt;demo&lt;/b&gt;');
    expect(html).not.toContain('<b>');
    const actions = blockHtml({
      type: 'actions',
      block_id: 'a',
      elements: [{ type: 'static_select', action_id: 's' }],
    });
    expect(actions).toContain('Unsupported element type <code>static_select</code>');
    expect(blockHtml(null)).toContain('block-unknown');
  });

  it("renders rich_text (what people's messages carry)", () => {
    const html = blockHtml(
      {
        type: 'rich_text',
        elements: [
          {
            type: 'rich_text_section',
            elements: [
              { type: 'text', text: 'hi ' },
              { type: 'user', user_id: 'U1' },
              { type: 'text', text: ' <3', style: { bold: true } },
            ],
          },
          {
            type: 'rich_text_list',
            style: 'ordered',
            elements: [{ type: 'rich_text_section', elements: [{ type: 'link', url: 'https://x.test', text: 'x' }] }],
          },
        ],
      },
      { users },
    );
    expect(html).toContain('hi <span class="mention" data-user-id="U1">@alice</span><strong> &lt;3</strong>');
    expect(html).toContain('<ol><li><a href="https://x.test"');
  });

  it('renders a message: author, edited, ephemeral note, reply count, text fallback', () => {
    const root = messageHtml(
      {
        ts: '1700000000.000100',
        user: 'U0LOCALBOT',
        userName: 'rollout',
        isBot: true,
        text: '*hi* <@U1>',
        edited: true,
        replyCount: 3,
      },
      { users },
    );
    expect(root).toContain('data-ts="1700000000.000100"');
    expect(root).toContain('<span class="app-badge">APP</span>');
    expect(root).toContain('<span class="edited">(edited)</span>');
    expect(root).toContain(
      '<div class="block block-text"><strong>hi</strong> <span class="mention" data-user-id="U1">@alice</span></div>',
    );
    expect(root).toContain('data-open-thread="1700000000.000100">3 replies</button>');
    const eph = messageHtml({
      ts: '1.2',
      threadTs: '1.1',
      user: 'U0LOCALBOT',
      userName: '<rollout>',
      isBot: true,
      ephemeral: true,
      text: 'x',
    });
    expect(eph).toContain('class="msg msg-bot ephemeral"');
    expect(eph).toContain('data-thread-ts="1.1"');
    expect(eph).toContain('Only visible to you');
    expect(eph).toContain('<span class="msg-author">&lt;rollout&gt;</span>');
    expect(eph).not.toContain('reply-count');
    const inThread = messageHtml(
      { ts: '1.1', user: 'U1', userName: 'alice', text: 'x', replyCount: 2 },
      { inThread: true },
    );
    expect(inThread).not.toContain('reply-count');
    expect(inThread).not.toContain('reply-in-thread');
  });
});
