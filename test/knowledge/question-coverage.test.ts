import { describe, expect, it } from 'vitest';
import type { KnowledgeHit } from '../../src/knowledge/knowledge-search.ts';
import { isFacetTerm, searchTerms } from '../../src/knowledge/query-words.ts';
import { uncoveredSubject } from '../../src/knowledge/question-coverage.ts';

const hit = (title: string, heading: string | null, text: string): KnowledgeHit => ({
  id: 'doc.md#0',
  documentId: 'doc.md',
  title,
  heading,
  text,
  score: 0.4,
});

const REPAIR_PRICES = hit(
  'Servicio técnico',
  'Precios de las reparaciones más comunes',
  '| Reparación | Precio |\n| --- | --- |\n| Pantalla iPhone 13 | 129 € |\n| Batería | 59 € |',
);
const SHOP = hit('Horarios y tiendas', 'Tienda Ruzafa', 'Calle Sueca 12. Abrimos de lunes a sábado.');
const HOURS = hit('Opening hours', 'Old Town café', 'Monday to Friday: 7:00 – 19:00.');

describe('isFacetTerm', () => {
  it.each([
    ['How much does it cost?', ['cost']],
    ['¿Cuál es el horario?', ['horario']],
    ['¿Cuánto tarda?', ['tarda']],
    ['Where are you?', ['where']],
  ])('%j asks about a facet', (question, facets) => {
    expect(
      searchTerms(question)
        .filter(isFacetTerm)
        .map((term) => term[0]),
    ).toEqual(facets);
  });

  it.each(['Do you deliver to Canada?', 'Is my phone broken?', '¿Tenéis tienda en Madrid?'])(
    '%j names a subject',
    (question) => {
      expect(searchTerms(question).filter(isFacetTerm)).toEqual([]);
    },
  );
});

describe('uncoveredSubject', () => {
  it('names the subject when the passages share only the facet asked about', () => {
    expect(uncoveredSubject('¿Qué tarifa de fibra me recomiendas?', [REPAIR_PRICES])).toEqual([
      'fibra',
      'recomiendas',
    ]);
    expect(uncoveredSubject('What are the opening hours of the cinema?', [HOURS])).toEqual(['cinema']);
  });

  it('is null when a passage holds part of the subject, in any form', () => {
    expect(uncoveredSubject('¿Tenéis tienda en Madrid?', [SHOP])).toBeNull();
    expect(uncoveredSubject('¿Reparáis ordenadores portátiles?', [REPAIR_PRICES])).toBeNull();
  });

  it('is null for a question about the business itself: facets only', () => {
    expect(uncoveredSubject('What are your opening hours?', [HOURS])).toBeNull();
    expect(uncoveredSubject('¿Cuánto cuesta?', [])).toBeNull();
  });

  it('names the whole subject when nothing was found', () => {
    expect(uncoveredSubject('Do you sell bicycles?', [])).toEqual(['bicycles']);
  });
});
