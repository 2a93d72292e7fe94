import type { LabelledPhrase } from '../../bot/classifier.js';

const EN: Record<string, string[]> = {
  'billing.refund_request': ['i want my money back', 'please refund my last payment', 'can i get a refund', 'refund me for this month', 'give me a refund now', 'how do i ask for a refund', 'i need a refund for the charge', 'money back please'],
  'billing.cancel_subscription': ['cancel my subscription', 'i want to cancel premium', 'how do i stop my plan', 'turn off auto renewal', 'stop charging me every month, cancel it', 'end my membership', 'unsubscribe me from premium', 'please cancel my account plan'],
  'troubleshooting.login_problem': ['i cannot log in', 'forgot my password', 'reset my password please', 'login does not work', 'the app says wrong password', 'i am locked out of my account', 'sign in fails every time', 'how do i recover my login'],
  'troubleshooting.playback_stops': ['music stops playing', 'songs keep pausing on their own', 'playback stops after a minute', 'the track skips by itself', 'my music keeps stopping', 'audio cuts out and pauses', 'why does the song stop', 'playback keeps halting'],
  'meta.greeting': ['hello', 'hi there', 'good morning', 'hey', 'hello, anyone there?', 'hi bot', 'good evening', 'hey there, hello'],
};

const ES: Record<string, string[]> = {
  'billing.refund_request': ['quiero que me devuelvan el dinero', 'necesito un reembolso', 'devolvedme el pago', 'pido el reembolso del cobro'],
  'billing.cancel_subscription': ['quiero cancelar mi suscripción', 'cancelar el premium', 'darme de baja del plan', 'cancela mi suscripcion'],
  'troubleshooting.login_problem': ['no puedo iniciar sesión', 'olvidé mi contraseña', 'restablecer la contraseña', 'no puedo entrar en mi cuenta'],
  'troubleshooting.playback_stops': ['la música se para sola', 'las canciones se detienen', 'la reproducción se corta', 'se pausa la música'],
  'meta.greeting': ['hola', 'buenos días', 'hola, ¿hay alguien?', 'buenas tardes'],
};

/** A small, fixed two-language training set (five intents). */
export function syntheticPhrases(): LabelledPhrase[] {
  const phrases: LabelledPhrase[] = [];
  for (const [intent, texts] of Object.entries(EN)) for (const text of texts) phrases.push({ text, intent, language: 'en' });
  for (const [intent, texts] of Object.entries(ES)) for (const text of texts) phrases.push({ text, intent, language: 'es' });
  return phrases;
}

/** Validation messages for syntheticPhrases: two in scope and one out of scope. */
export function syntheticValidation(): LabelledPhrase[] {
  return [
    { text: 'refund my money', intent: 'billing.refund_request', language: 'en' },
    { text: 'what is the weather tomorrow', intent: 'oos', language: 'en' },
    { text: 'cancel premium now', intent: 'billing.cancel_subscription', language: 'en' },
  ];
}
