import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { dashboardHtml } from './dashboard-page.js';

describe('dashboard page', () => {
  const html = dashboardHtml();
  const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1] ?? '';

  it('has one inline script that parses, and nothing that loads from elsewhere', () => {
    expect(script.length).toBeGreaterThan(1_000);
    expect(() => new Script(script)).not.toThrow();
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/\b(src|href)="(?!data:)/);
    expect(html).not.toMatch(/https?:\/\/|url\(/);
  });

  it('never parses server data as HTML', () => {
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });
});
