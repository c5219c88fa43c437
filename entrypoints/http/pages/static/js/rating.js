// A session's age rating as Brazil shows it (the ClassInd badge: L, 10, 12, 14, 16, 18), with
// a name a screen reader says whole; the templates draw the same badge (templates/rating.html).

import { phrase } from './phrases.js';

export function ratingLabel(rating) {
  return rating === 'L' ? phrase('rating-L') : phrase('rating-age', { age: rating });
}

export function ratingBadge(rating = 'L') {
  const badge = document.createElement('span');
  badge.className = 'rating';
  badge.dataset.rating = rating;
  badge.setAttribute('role', 'img');
  badge.setAttribute('aria-label', ratingLabel(rating));
  badge.title = ratingLabel(rating);
  badge.textContent = rating;
  return badge;
}
