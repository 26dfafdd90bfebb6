import { remembered } from './remembered.ts';

/**
 * Words that say how a customer asks, not what about: function words, greetings, politeness and question
 * scaffolding ("how much", "do you sell", "quisiera saber", "por favor") in English, Spanish and Portuguese,
 * without accents. Postgres drops its own stop words, but not "please" or "tell": a word the knowledge base
 * does not hold counts against a passage's coverage, so a polite question would score lower than a curt one.
 */
const FILLER = new Set(
  [
    `an the and or but if so of to in on at by for with from about as into is are was were be been am do does did
    doing have has had can could would should will shall may might must me my we us our you your he him his she
    her it its they them their this that these those there here what which who whom whose when why how any some
    all not no yes just also very too much many long get got take know tell want wanna like please pls plz thanks
    thank thx hi hello hey hiya ok okay question wondering help dear sir madam guys im ill dont don doesn didn isn
    aren cant policy policies info information details near nearby nearest closest sell sells buy offer offers
    yesterday today tomorrow something anything everything nothing someone anyone somebody anybody somewhere
    anywhere thing things stuff`,
    `de la el los las un una unos unas que en por para con sin del al se su sus mi mis tu tus lo le les me te nos
    es son esta estan estoy ser hay como cual cuales cuando quien cuanto cuanta cuantos cuantas porque pero si ya
    muy mas tambien hola buenas buenos gracias favor porfa porfavor quiero quisiera queria querria saber puedo
    puede pueden podria podrias podrian tienen tiene tienes teneis tenemos hacen hace haceis hacer hago ayuda
    ayudar pregunta consulta vale este esto ese eso politica politicas informacion cerca vendeis venden vendes
    vender ayer hoy manana hice compre algo alguien algun alguno alguna algunos algunas nada nadie cualquier
    cualquiera cosa cosas`,
    `os as um uma do da dos das em na nas com eu voce voces meu minha seu sua sao estao tem ha qual quais quando
    quanto quanta quantos quantas mas sim nao ja muito mais ola oi bom boa obrigado obrigada gostaria posso podem
    perto vendem algo alguem algum alguma alguns algumas nada ninguem qualquer coisa coisas`,
  ]
    .join(' ')
    .split(/\s+/),
);

/**
 * Words customers use for what the documents call otherwise, by intent: searched as alternatives of one term,
 * so "¿cuánto cuesta el envío?" finds the shipping table's "Precio" column. Written with their accents, which
 * Postgres' stemmers need. A *facet* asks about an attribute of something (what it costs, when it opens, how
 * long it takes, where it is) rather than naming what the question is about.
 */
const SYNONYM_GROUPS: readonly { facet: boolean; words: string }[] = [
  // what something costs
  {
    facet: true,
    words:
      'price prices cost costs fee fees charge precio precios cuesta cuestan coste costo tarifa preço preços custa custo',
  },
  // when a place is open
  { facet: true, words: 'hours opening open horario horarios abrís abre abren abierto abrem aberto' },
  // how long something takes
  { facet: true, words: 'tarda tardan tardáis plazo plazos demora prazo prazos' },
  // where a place is
  { facet: true, words: 'where address location dónde dirección ubicación onde endereço' },
  // getting an order
  {
    facet: false,
    words:
      'deliver delivery delivered arrive arrives llegar llega llegue entrega entregar chegar chega entregue',
  },
  // following a parcel
  { facet: false, words: 'track tracking seguir seguimiento rastrear rastreo rastreio' },
  // something that stopped working or came damaged
  {
    facet: false,
    words:
      'broke broken break breaks damaged faulty defective roto rota rompió dañado estropeado averiado quebrou quebrado',
  },
  // second-hand
  { facet: false, words: 'used old usado usada usados viejo vieja antiguo velho' },
];
const ACCENTS = /[\u0300-\u036f]/g;
// Plain letters and digits are their own decomposition: most words skip two Unicode normalizations.
const PLAIN = /^[a-z0-9]*$/i;
const fold = (word: string): string =>
  PLAIN.test(word) ? word : word.normalize('NFKD').replace(ACCENTS, '').normalize('NFC');
const FOLDED_GROUPS = SYNONYM_GROUPS.map(({ facet, words }) => ({
  facet,
  words: words.split(' ').map((word) => ({ word, folded: fold(word) })),
}));
const FACET_WORDS = new Set(
  FOLDED_GROUPS.filter((group) => group.facet).flatMap((group) => group.words.map((word) => word.folded)),
);
/** Each synonym, accent-free, to the group it belongs to (the first, should one be listed twice). */
const SYNONYM_GROUP_OF = new Map<string, readonly { word: string; folded: string }[]>();
for (const { words } of FOLDED_GROUPS) {
  for (const { folded } of words) if (!SYNONYM_GROUP_OF.has(folded)) SYNONYM_GROUP_OF.set(folded, words);
}
const typedWords = (text: string): string[] =>
  text
    .normalize('NFC')
    .toLowerCase()
    .split(/[^\p{L}\p{M}\p{N}]+/u)
    .filter((word) => word !== '');
const HYPHENATED = /(\p{L}+)-(\p{L}+)/gu;

/**
 * The lowercase, accent-free words of a text, in order: letters and digits, everything else separates.
 * Hyphenated words also come joined ("Wi-Fi" gives wi, fi and wifi), as people write them both ways.
 */
export const wordsOf: (text: string) => string[] = remembered(
  50_000,
  (text) => Object.freeze(typedWords(text.replace(HYPHENATED, '$1-$2 $1$2')).map(fold)) as string[],
);

/**
 * What to search the knowledge base for in a customer's text: its subject words as typed (accents matter to
 * Postgres' stemmers), each with the other words for the same thing. Filler and one-letter words are left out.
 */
export function searchTerms(text: string): string[][] {
  const terms: string[][] = [];
  const seen = new Set<string>();
  for (const word of typedWords(text)) {
    const folded = fold(word);
    if (FILLER.has(folded) || (folded.length < 2 && !/\d/.test(folded)) || seen.has(folded)) continue;
    seen.add(folded);
    const synonyms = SYNONYM_GROUP_OF.get(folded) ?? [];
    terms.push([
      word,
      ...synonyms.filter((synonym) => synonym.folded !== folded).map((synonym) => synonym.word),
    ]);
  }
  return terms;
}

/** `searchTerms` in the knowledge base's query syntax: terms separated by spaces, alternatives by `|`. */
export function searchQuery(text: string): string {
  return searchTerms(text)
    .map((alternatives) => alternatives.join('|'))
    .join(' ');
}

/** Whether a term of `searchTerms` asks about an attribute (a price, hours, a time, a place), not a subject. */
export const isFacetTerm = (term: readonly string[]): boolean => FACET_WORDS.has(fold(term[0] ?? ''));
