// A room's layout as the admin types it (one row a line, front row first), read by the same
// rules as the server's, so the preview and its counts are right before anything is sent.

import { phrase } from './phrases.js';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const CATEGORY = { s: 'standard', p: 'premium', c: 'couple', w: 'accessible', x: 'standard' };
export const MIN_SEATS = 16;

export function readLayout(text) {
  const rows = text.split('\n').map((line) => line.trim());
  while (rows.length && !rows.at(-1)) rows.pop();
  const errors = [];
  const seats = [];
  const categories = {};
  let blocked = 0;
  if (!rows.length) errors.push(phrase('layout-no-rows'));
  if (rows.length > LETTERS.length) errors.push(phrase('layout-too-many-rows', { count: rows.length }));
  rows.slice(0, LETTERS.length).forEach((line, index) => {
    const letter = LETTERS[index];
    if (!line) errors.push(phrase('layout-empty-row', { row: letter }));
    if (line.length > 100) errors.push(phrase('layout-long-row', { row: letter, count: line.length }));
    const runStart = [];
    for (const run of line.matchAll(/c+/g)) {
      if (run[0].length % 2) {
        errors.push(phrase('layout-odd-couple', { row: letter, first: run.index + 1, last: run.index + run[0].length, count: run[0].length }));
      }
      for (let i = 0; i < run[0].length; i += 1) runStart[run.index + i] = run.index;
    }
    let number = 0;
    [...line].forEach((cell, i) => {
      if (cell === '_') return;
      if (!(cell in CATEGORY)) {
        errors.push(phrase('layout-bad-cell', { row: letter, column: i + 1, cell }));
        return;
      }
      number += 1;
      const seat = {
        label: `${letter}${number}`,
        row: letter,
        number,
        column: i + 1,
        category: CATEGORY[cell],
        status: cell === 'x' ? 'blocked' : 'available',
      };
      if (cell === 'c') {
        const first = (i - runStart[i]) % 2 === 0;
        seat.pair = `${letter}${first ? number + 1 : number - 1}`;
      }
      if (cell === 'x') blocked += 1;
      else categories[seat.category] = (categories[seat.category] ?? 0) + 1;
      seats.push(seat);
    });
  });
  const seatCount = seats.length - blocked;
  if (rows.length && seatCount < MIN_SEATS) {
    errors.push(phrase('layout-too-few', { least: MIN_SEATS, count: seatCount }));
  }
  const columns = Math.max(0, ...rows.map((line) => line.length));
  return { rows, map: { rows: rows.length, columns, seats }, seatCount, categories, blocked, errors };
}
