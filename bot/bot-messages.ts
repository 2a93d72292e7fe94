import type { Language } from './language.js';

/** The bot's own sentences (not intent answers), in every language it speaks. */
export const BOT_MESSAGES = {
  en: {
    welcome: "Hi! I'm the {brand} help bot. Ask me about billing, your account or playback problems.",
    notUnderstood: "I'm not sure I understood. Could you say it another way? I can help with billing, your account and playback, or get you a person.",
    notUnderstoodAgain: "Sorry, I still didn't get that. Would you like to talk to a person?",
    clarify: 'Which of these did you mean?',
    confirmQuestion: 'Did that solve it?',
    confirmedYes: "Great, glad that's sorted! Anything else I can help with?",
    confirmedNoClarify: "Sorry that didn't help. Could you tell me a bit more about what happens? Or I can get you a person.",
    handoff: 'I\'m passing you to a person. A member of our team will join this chat as soon as one is free; you can keep writing meanwhile.',
    awaitingAgent: "Thanks, I've added that to the chat. A person will read it when they join.",
    feedbackThanks: "Thank you! I've passed that on to the team.",
    feedbackOfferHelp: 'Do you also want help with it now?',
    goodbye: 'Thanks for chatting with {brand}. Take care!',
    talkToPerson: 'Talk to a person',
    yes: 'Yes, solved',
    no: 'No',
    topicBilling: 'Billing question',
    topicPlayback: 'Playback problem',
  },
  es: {
    welcome: '¡Hola! Soy el bot de ayuda de {brand}. Pregúntame por pagos, tu cuenta o problemas de reproducción.',
    notUnderstood: 'No estoy seguro de haberte entendido. ¿Puedes decirlo de otra forma? Puedo ayudarte con pagos, tu cuenta y la reproducción, o pasarte con una persona.',
    notUnderstoodAgain: 'Perdona, sigo sin entenderlo. ¿Quieres hablar con una persona?',
    clarify: '¿A cuál de estos te refieres?',
    confirmQuestion: '¿Se ha solucionado?',
    confirmedYes: '¡Genial, me alegro! ¿Te ayudo con algo más?',
    confirmedNoClarify: 'Siento que no haya servido. ¿Me cuentas un poco más de lo que pasa? O te paso con una persona.',
    handoff: 'Te paso con una persona. Alguien del equipo se unirá al chat en cuanto quede libre; mientras tanto puedes seguir escribiendo.',
    awaitingAgent: 'Gracias, lo he añadido al chat. Una persona lo leerá al unirse.',
    feedbackThanks: '¡Gracias! Se lo he pasado al equipo.',
    feedbackOfferHelp: '¿Quieres que te ayude con ello ahora?',
    goodbye: 'Gracias por escribir a {brand}. ¡Hasta pronto!',
    talkToPerson: 'Hablar con una persona',
    yes: 'Sí, solucionado',
    no: 'No',
    topicBilling: 'Pagos y facturas',
    topicPlayback: 'Problema de reproducción',
  },
} as const satisfies Record<Language, Record<string, string>>;

export type BotMessageKey = keyof (typeof BOT_MESSAGES)['en'];
