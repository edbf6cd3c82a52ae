/** `plrust config`: the resolved configuration, each value with where it came from. */
import type { Context } from '../context.js';
import { ENV_VARS } from '../../config/schema.js';

export async function showConfig(ctx: Context): Promise<void> {
  const { values, sources, files } = ctx.config;
  const entries = Object.entries(values).map(([key, value]) => ({
    key,
    value: value ?? null,
    source: sources[key as keyof typeof sources].source,
    ...(sources[key as keyof typeof sources].origin ? { origin: sources[key as keyof typeof sources].origin } : {}),
    env: ENV_VARS[key as keyof typeof ENV_VARS],
  }));
  ctx.out.result({ ok: true, files, values, sources, entries }, (print) => {
    const width = Math.max(...entries.map((e) => e.key.length));
    for (const e of entries) {
      const shown =
        e.value === null ? ctx.out.paint.dim('(unset)') : Array.isArray(e.value) ? e.value.join(',') : String(e.value);
      const from = e.origin ? `${e.source}: ${e.origin}` : e.source;
      print(`${e.key.padEnd(width)}  ${shown}  ${ctx.out.paint.dim(`(${from})`)}`);
    }
    print();
    print(ctx.out.paint.dim(`project config: ${files.project ?? 'none'}; global config: ${files.global ?? 'none'}`));
  });
}
