/**
 * What customers ask, by knowledge base. Taken from test/eval/conversations.yaml, keeping the questions the
 * offline agent answers with confidence (bench/check-phrasebook.ts checks it): the bench measures the engine,
 * and a session handed to a person legitimately stops answering, taking its customer out of the load. Each list is long enough that a
 * customer walking through it never repeats a question within the loop-detection window (5 messages).
 */
export interface Phrasebook {
  questions: readonly string[];
  /** Sent before a question in a burst ("hi" / "what are your hours?"), or alone. */
  greetings: readonly string[];
  thanks: readonly string[];
}

export const PHRASEBOOKS = {
  demo: {
    questions: [
      'What are your opening hours?',
      'Is there parking near the café?',
      'How much is a cappuccino?',
      'Do you have vegan food?',
      'Which coffee beans do you sell?',
      'When are the brewing workshops?',
      'How long does standard shipping take?',
      'Do you ship internationally?',
      'How can I track my order?',
      'Can I return an opened bag of coffee?',
      'When will I get my refund?',
      'How do I cancel my coffee subscription?',
      'Do you accept PayPal?',
      'How do I join Harbour Club?',
      'Do my points expire?',
      'What is your email address?',
      'Are you hiring baristas?',
      'What time do you close on Saturday?',
      'How much is a flat white?',
      'Do you sell gift cards?',
    ],
    greetings: ['Hi!', 'Hello', 'Good morning!', 'hey'],
    thanks: ['Thank you so much!', 'thanks', 'ok great', '👍'],
  },
  tecnomovil: {
    questions: [
      '¿Qué horario tenéis?',
      '¿Dónde está la tienda de Ruzafa?',
      '¿Abrís los domingos?',
      '¿Hay parking cerca de la tienda del centro?',
      '¿Cuánto cuesta el envío?',
      '¿Hacéis envíos a Canarias?',
      '¿Cuánto tarda en llegar un pedido urgente?',
      '¿Cuántos días tengo para devolver un producto?',
      '¿Cuándo me devolvéis el dinero?',
      '¿Cuánta garantía tienen los móviles reacondicionados?',
      '¿Cuánto cuesta cambiar la pantalla?',
      '¿Aceptáis Bizum?',
      '¿Se puede pagar a plazos?',
      '¿Qué necesito para financiar un móvil?',
      '¿Puedo pagar contra reembolso?',
    ],
    greetings: ['Hola, buenas tardes', 'Hola', 'Buenos días'],
    thanks: ['Muchas gracias', 'gracias', 'vale, perfecto'],
  },
} as const satisfies Record<string, Phrasebook>;
