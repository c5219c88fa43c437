// The room drawn from a seat map: one grid row per layout row, one cell per seat at its layout
// column (gaps are columns with no cell), row letters at both ends, row A nearest the screen.
// Interactive maps follow the ARIA grid pattern: one seat in the tab order (roving tabindex),
// arrow keys move between seats, Enter or Space chooses. Each seat is a button whose name a
// screen reader reads whole ("A5, premium, available, R$ 40,00"); its state shows as a shape
// or mark as well as a colour.

import { phrase } from './phrases.js';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

// The contract's seat map, or the first version's (no column, category, pair, rows, columns).
export function normalize(map) {
  const seats = map.seats.map((s) => ({
    label: s.label,
    row: s.row,
    number: s.number,
    column: s.column ?? s.number,
    category: s.category ?? 'standard',
    status: s.status,
    pair: s.pair ?? null,
  }));
  const lastRow = Math.max(0, ...seats.map((s) => LETTERS.indexOf(s.row) + 1));
  const lastColumn = Math.max(0, ...seats.map((s) => s.column));
  return { rows: map.rows ?? lastRow, columns: map.columns ?? lastColumn, seats };
}

function compareSeats(a, b) {
  return a.row === b.row ? a.number - b.number : a.row < b.row ? -1 : 1;
}

export function byLabelOrder(labels, seatOf) {
  return [...labels].sort((a, b) => compareSeats(seatOf(a), seatOf(b)));
}

export class SeatMapView {
  // look(seat) → {state, name}: state is available, chosen, mine, held, sold or blocked.
  constructor(root, { look, interactive = true, onChoose = () => {} }) {
    this.root = root;
    this.look = look;
    this.interactive = interactive;
    this.onChoose = onChoose;
    this.seats = new Map();
    this.elements = new Map();
    this.rows = [];
    this.current = null;
    if (interactive) {
      root.addEventListener('click', (event) => this.#clicked(event));
      root.addEventListener('keydown', (event) => this.#key(event));
      root.addEventListener('focusin', (event) => this.#focused(event));
    }
  }

  draw(map) {
    const { rows, columns, seats } = normalize(map);
    const hadFocus = this.root.contains(document.activeElement);
    this.seats = new Map(seats.map((seat) => [seat.label, seat]));
    this.elements = new Map();
    this.rows = [];
    this.root.style.setProperty('--cols', String(Math.max(columns, 1)));
    const fragment = document.createDocumentFragment();
    for (let index = 0; index < rows; index += 1) {
      const letter = LETTERS[index];
      const inRow = seats.filter((s) => s.row === letter).sort((a, b) => a.column - b.column);
      this.rows.push(inRow);
      fragment.append(this.#row(letter, inRow, columns));
    }
    this.root.replaceChildren(fragment);
    if (this.interactive) {
      if (!this.seats.has(this.current)) this.current = this.#firstOpen();
      this.#rove(this.current, hadFocus);
    }
  }

  // Focus the seat in the tab order (after the element that had focus went away).
  focus() {
    if (this.current) this.elements.get(this.current)?.focus();
  }

  seat(label) {
    return this.seats.get(label) ?? null;
  }

  // A seat's status changed (from the stream, or a refusal): returns the seat, or null.
  update(label, status) {
    const seat = this.seats.get(label);
    if (!seat) return null;
    seat.status = status;
    this.paint(label);
    return seat;
  }

  paint(...labels) {
    const which = labels.length ? labels : [...this.seats.keys()];
    for (const label of which) {
      const element = this.elements.get(label);
      const seat = this.seats.get(label);
      if (element && seat) this.#paint(element, seat);
    }
  }

  count(predicate) {
    let n = 0;
    for (const seat of this.seats.values()) if (predicate(seat)) n += 1;
    return n;
  }

  #row(letter, inRow, columns) {
    const row = document.createElement('div');
    row.className = 'seat-row';
    const head = document.createElement('div');
    head.className = 'row-name';
    head.textContent = letter;
    const tail = head.cloneNode(true);
    tail.style.gridColumn = String(columns + 2);
    tail.setAttribute('aria-hidden', 'true');
    if (this.interactive) {
      row.setAttribute('role', 'row');
      head.setAttribute('role', 'rowheader');
      head.setAttribute('aria-label', phrase('row-label', { row: letter }));
    }
    row.append(head);
    for (const seat of inRow) row.append(this.#cell(seat));
    row.append(tail);
    return row;
  }

  #cell(seat) {
    const element = document.createElement(this.interactive ? 'button' : 'span');
    element.className = `seat cat-${seat.category}`;
    element.dataset.seat = seat.label;
    if (this.interactive) {
      // The name is the button's own text, so the visible number is part of it: the row
      // letter before it and the rest after it are text of no size.
      const row = document.createElement('span');
      row.className = 'unseen';
      row.textContent = seat.row;
      const rest = document.createElement('span');
      rest.className = 'unseen';
      // One inline box: inside the flex button, loose children would each be a block, and
      // a browser puts spaces between blocks when it reads them as one name.
      const name = document.createElement('span');
      name.append(row, String(seat.number), rest);
      element.append(name);
    } else {
      element.textContent = String(seat.number);
    }
    if (seat.pair) {
      const partner = this.seats.get(seat.pair);
      element.classList.add(partner && partner.column < seat.column ? 'pair-right' : 'pair-left');
    }
    this.elements.set(seat.label, element);
    this.#paint(element, seat);
    if (!this.interactive) {
      element.style.gridColumn = String(seat.column + 1);
      return element;
    }
    element.type = 'button';
    element.tabIndex = -1;
    const cell = document.createElement('div');
    cell.setAttribute('role', 'gridcell');
    cell.className = 'cell';
    cell.style.gridColumn = String(seat.column + 1);
    cell.append(element);
    return cell;
  }

  #paint(element, seat) {
    const { state, name } = this.look(seat);
    element.dataset.status = seat.status;
    element.dataset.state = state;
    if (!this.interactive) return;
    const prefix = `${seat.row}${seat.number}`;
    element.firstChild.lastChild.textContent = name.startsWith(prefix) ? name.slice(prefix.length) : `, ${name}`;
    element.setAttribute('aria-pressed', String(state === 'chosen'));
    element.setAttribute('aria-disabled', String(state !== 'available' && state !== 'chosen'));
  }

  #firstOpen() {
    for (const row of this.rows) for (const seat of row) if (seat.status === 'available') return seat.label;
    for (const row of this.rows) if (row.length) return row[0].label;
    return null;
  }

  #rove(label, focus) {
    for (const [key, element] of this.elements) element.tabIndex = key === label ? 0 : -1;
    this.current = label;
    if (focus && label) this.elements.get(label)?.focus();
  }

  #clicked(event) {
    const element = event.target.closest('[data-seat]');
    if (!element || !this.root.contains(element)) return;
    this.#rove(element.dataset.seat, false);
    this.onChoose(this.seats.get(element.dataset.seat));
  }

  #focused(event) {
    const element = event.target.closest('[data-seat]');
    if (element && element.dataset.seat !== this.current) this.#rove(element.dataset.seat, false);
  }

  #key(event) {
    const seat = this.seats.get(this.current);
    if (!seat) return;
    const target = this.#next(seat, event.key, event.ctrlKey || event.metaKey);
    if (target === undefined) return;
    event.preventDefault();
    if (target) this.#rove(target.label, true);
  }

  #next(seat, key, far) {
    const rowIndex = LETTERS.indexOf(seat.row);
    const row = this.rows[rowIndex];
    const at = row.indexOf(seat);
    const filled = this.rows.filter((r) => r.length);
    switch (key) {
      case 'ArrowLeft':
        return row[at - 1] ?? null;
      case 'ArrowRight':
        return row[at + 1] ?? null;
      case 'Home':
        return far ? filled[0][0] : row[0];
      case 'End':
        return far ? filled.at(-1).at(-1) : row.at(-1);
      case 'ArrowUp':
      case 'ArrowDown': {
        const step = key === 'ArrowUp' ? -1 : 1;
        for (let i = rowIndex + step; i >= 0 && i < this.rows.length; i += step) {
          if (this.rows[i].length) return nearest(this.rows[i], seat.column);
        }
        return null;
      }
      default:
        return undefined;
    }
  }
}

function nearest(row, column) {
  let best = row[0];
  for (const seat of row) {
    if (Math.abs(seat.column - column) < Math.abs(best.column - column)) best = seat;
  }
  return best;
}
