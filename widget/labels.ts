export type WidgetLanguage = 'en' | 'es';

export const LABELS = {
  en: {
    open: 'Chat with us',
    close: 'Close chat',
    title: 'Help',
    placeholder: 'Type your message…',
    send: 'Send',
    messageLabel: 'Your message',
    connecting: 'Connecting…',
    online: 'Online',
    reconnecting: 'Reconnecting…',
    offline: 'Offline',
    botTyping: 'The assistant is typing…',
    agentTyping: 'An agent is typing…',
    you: 'You',
    bot: 'Assistant',
    agent: 'Agent',
    system: 'Notice',
    notSent: 'Not sent yet; it will be sent when the connection is back.',
    error: 'Something went wrong:',
    newChat: 'Start a new chat',
    ended: 'This chat has ended.',
    queuePosition: 'You are number {position} in the queue.',
    queueEta: 'Estimated wait: about {minutes} min.',
    queueNoEta: 'We cannot estimate the wait yet.',
    noAgents: 'Nobody is online right now.',
    agentJoined: '{name} joined the chat.',
    leave: 'End chat',
    leaveMessageTitle: 'Leave a message',
    email: 'Your e-mail',
    message: 'Your message',
    sendMessage: 'Send message',
    cancel: 'Cancel',
    messageLeft: 'Thanks! We will reply by e-mail.',
  },
  es: {
    open: 'Habla con nosotros',
    close: 'Cerrar el chat',
    title: 'Ayuda',
    placeholder: 'Escribe tu mensaje…',
    send: 'Enviar',
    messageLabel: 'Tu mensaje',
    connecting: 'Conectando…',
    online: 'En línea',
    reconnecting: 'Reconectando…',
    offline: 'Sin conexión',
    botTyping: 'El asistente está escribiendo…',
    agentTyping: 'Un agente está escribiendo…',
    you: 'Tú',
    bot: 'Asistente',
    agent: 'Agente',
    system: 'Aviso',
    notSent: 'Aún no enviado; se enviará cuando vuelva la conexión.',
    error: 'Algo ha fallado:',
    newChat: 'Empezar un chat nuevo',
    ended: 'Este chat ha terminado.',
    queuePosition: 'Eres el número {position} de la cola.',
    queueEta: 'Espera estimada: unos {minutes} min.',
    queueNoEta: 'Todavía no podemos estimar la espera.',
    noAgents: 'Ahora mismo no hay nadie conectado.',
    agentJoined: '{name} se ha unido al chat.',
    leave: 'Terminar chat',
    leaveMessageTitle: 'Dejar un mensaje',
    email: 'Tu e-mail',
    message: 'Tu mensaje',
    sendMessage: 'Enviar mensaje',
    cancel: 'Cancelar',
    messageLeft: '¡Gracias! Te responderemos por e-mail.',
  },
} as const satisfies Record<WidgetLanguage, Record<string, string>>;

export type Labels = (typeof LABELS)[WidgetLanguage];

/** The data attribute wins; otherwise the browser's language; otherwise English. */
export function pickLanguage(attribute: string | null | undefined, browserLanguages: readonly string[]): WidgetLanguage {
  const candidates = [attribute ?? '', ...browserLanguages];
  for (const candidate of candidates) {
    const base = candidate.toLowerCase().split('-')[0];
    if (base === 'en' || base === 'es') return base;
  }
  return 'en';
}
