/**
 * Words that say how a customer asks, not what about: function words, greetings, politeness and question
 * scaffolding ("how much", "I would like to know", "quisiera saber", "por favor") in English, Spanish and
 * Portuguese, without accents. Postgres drops its own stop words, but not "please" or "tell": a word the
 * knowledge base does not hold counts against a passage's coverage, so a polite question would score lower than
 * a curt one.
 */
const FILLER = new Set(
  `an the and or but if so of to in on at by for with from about as into is are was were be been am do does
  did doing have has had can could would should will shall may might must me my we us our you your he him his
  she her it its they them their this that these those there here what which who whom whose when where why how
  any some all not no yes just also very too much many long get got take know tell want wanna like need please
  pls plz thanks thank thx hi hello hey hiya ok okay question wondering help dear sir madam guys im ill dont don doesn didn isn aren cant
  de la el los las un una unos unas que en por para con sin del al se su sus mi mis tu tus lo le les me te
  nos es son esta estan estoy ser hay como cual cuales cuando donde quien cuanto cuanta cuantos cuantas porque
  pero si ya muy mas tambien hola buenas buenos gracias favor porfa porfavor quiero quisiera queria querria
  saber necesito puedo puede pueden podria podrias podrian tienen tiene tienes hacen hace ayuda ayudar pregunta
  consulta vale este esto ese eso
  os as um uma do da dos das em na nas com eu voce voces meu minha seu sua sao estao tem ha qual quais quando
  onde quanto quanta quantos quantas mas sim nao ja muito mais ola oi bom boa obrigado obrigada gostaria
  preciso posso podem`.split(/\s+/),
);

const ACCENTS = /[\u0300-\u036f]/g;

/** The lowercase, accent-free words of a text, in order: letters and digits, everything else separates. */
export function wordsOf(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(ACCENTS, '')
    .toLowerCase()
    .split(/[^\p{L}\p{M}\p{N}]+/u)
    .filter((word) => word !== '');
}

/** The words of a customer's text that carry its subject: what to search the knowledge base for. */
export function contentWords(text: string): string[] {
  return wordsOf(text).filter((word) => !FILLER.has(word) && (word.length > 1 || /\d/.test(word)));
}
