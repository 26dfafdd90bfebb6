/** One line of the chart: latency (ms) against offered rate (per second). */
export interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  points: { x: number; y: number }[];
}

const WIDTH = 880;
const HEIGHT = 460;
const MARGIN = { top: 48, right: 230, bottom: 56, left: 70 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

/**
 * Latency against offered rate as a standalone SVG: a log-scale y axis (acks are milliseconds, a falling-
 * behind engine is seconds), a linear x axis, reference lines for the targets. No dependencies.
 */
export function latencyChartSvg(
  title: string,
  series: Series[],
  references: { y: number; label: string }[],
): string {
  const points = series
    .flatMap((line) => line.points)
    .filter((point) => Number.isFinite(point.y) && point.y > 0);
  const maxX = niceCeil(Math.max(1, ...points.map((point) => point.x)));
  const minY = 10 ** Math.floor(Math.log10(Math.min(1, ...points.map((point) => point.y))));
  const maxY = 10 ** Math.ceil(Math.log10(Math.max(1_000, ...points.map((point) => point.y))));
  const x = (value: number) => MARGIN.left + (value / maxX) * PLOT_W;
  const y = (value: number) =>
    MARGIN.top +
    PLOT_H -
    ((Math.log10(value) - Math.log10(minY)) / (Math.log10(maxY) - Math.log10(minY))) * PLOT_H;

  const parts: string[] = [];
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`);
  parts.push(text(WIDTH / 2 - MARGIN.right / 2, 26, title, { size: 16, anchor: 'middle', weight: 'bold' }));
  for (let decade = minY; decade <= maxY; decade *= 10) {
    parts.push(line(MARGIN.left, y(decade), MARGIN.left + PLOT_W, y(decade), '#e5e5e5'));
    parts.push(text(MARGIN.left - 8, y(decade) + 4, formatMs(decade), { anchor: 'end' }));
  }
  for (let step = 0; step <= 5; step++) {
    const value = (maxX / 5) * step;
    parts.push(line(x(value), MARGIN.top, x(value), MARGIN.top + PLOT_H, '#f0f0f0'));
    parts.push(text(x(value), MARGIN.top + PLOT_H + 18, String(Math.round(value)), { anchor: 'middle' }));
  }
  parts.push(text(MARGIN.left + PLOT_W / 2, HEIGHT - 14, 'offered load (per second)', { anchor: 'middle' }));
  parts.push(text(18, MARGIN.top + PLOT_H / 2, 'latency (ms, log)', { anchor: 'middle', rotate: true }));
  for (const reference of references) {
    parts.push(line(MARGIN.left, y(reference.y), MARGIN.left + PLOT_W, y(reference.y), '#c62828', '4 4'));
    parts.push(
      text(MARGIN.left + PLOT_W - 4, y(reference.y) - 4, reference.label, {
        anchor: 'end',
        color: '#c62828',
      }),
    );
  }
  series.forEach((serie, index) => {
    const visible = serie.points.filter((point) => Number.isFinite(point.y) && point.y > 0);
    if (visible.length > 0) {
      const path = visible.map(
        (point, i) => `${i === 0 ? 'M' : 'L'}${x(point.x).toFixed(1)},${y(point.y).toFixed(1)}`,
      );
      parts.push(
        `<path d="${path.join(' ')}" fill="none" stroke="${serie.color}" stroke-width="2"${serie.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
      for (const point of visible) {
        parts.push(
          `<circle cx="${x(point.x).toFixed(1)}" cy="${y(point.y).toFixed(1)}" r="3" fill="${serie.color}"/>`,
        );
      }
    }
    const legendY = MARGIN.top + 10 + index * 20;
    const legendX = MARGIN.left + PLOT_W + 16;
    parts.push(
      line(legendX, legendY, legendX + 24, legendY, serie.color, serie.dashed ? '6 4' : undefined, 2),
    );
    parts.push(text(legendX + 30, legendY + 4, serie.label, {}));
  });
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#999"/>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">\n${parts.join('\n')}\n</svg>\n`;
}

function line(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  color: string,
  dash?: string,
  width = 1,
): string {
  return `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${color}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
}

function text(
  x: number,
  y: number,
  content: string,
  style: {
    size?: number;
    anchor?: 'start' | 'middle' | 'end';
    weight?: string;
    color?: string;
    rotate?: boolean;
  },
): string {
  const attributes = [
    `x="${x.toFixed(1)}"`,
    `y="${y.toFixed(1)}"`,
    style.size ? `font-size="${style.size}"` : '',
    style.anchor ? `text-anchor="${style.anchor}"` : '',
    style.weight ? `font-weight="${style.weight}"` : '',
    style.color ? `fill="${style.color}"` : '',
    style.rotate ? `transform="rotate(-90 ${x.toFixed(1)} ${y.toFixed(1)})"` : '',
  ].filter((attribute) => attribute !== '');
  return `<text ${attributes.join(' ')}>${escapeXml(content)}</text>`;
}

function escapeXml(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function formatMs(value: number): string {
  return value >= 1_000 ? `${value / 1_000} s` : `${value} ms`;
}

/** 1, 2 or 5 times a power of ten, at or above the value: round axis ends. */
function niceCeil(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  const factor = [1, 2, 5, 10].find((candidate) => candidate * power >= value)!;
  return factor * power;
}
