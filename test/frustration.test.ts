import { describe, expect, it } from 'vitest';
import { assessFrustration, FRUSTRATION_THRESHOLD } from '../bot/frustration.js';

describe('assessFrustration', () => {
  it.each([
    ['my downloads are not working', 'en'],
    ['I have a problem, there is an error when I log in', 'en'],
    ['the app crashes all the time', 'en'],
    ['my payment failed and my card was declined', 'en'],
    ['I lost all my playlists', 'en'],
    ['I was charged twice this month', 'en'],
    ['why does my music stop?', 'en'],
    ['tell me a joke', 'en'],
    ['restarting the app is not helping', 'en'],
    ['how many times can I skip per hour', 'en'],
    ['thanks, that was great', 'en'],
    ['mis descargas no funcionan', 'es'],
    ['tengo un problema con un error al entrar', 'es'],
    ['la app se cierra sola', 'es'],
    ['perdí mis listas', 'es'],
    ['el pago fue rechazado', 'es'],
    ['me cobraron dos veces', 'es'],
    ['cuántas veces puedo saltar por hora', 'es'],
    ['gracias, muy amable', 'es'],
  ] as const)('an ordinary message is not frustrated: "%s"', (text, language) => {
    const result = assessFrustration(text, language, []);
    expect(result.frustrated).toBe(false);
    expect(result.score).toBeLessThan(FRUSTRATION_THRESHOLD);
  });

  it.each([
    ['THIS APP IS USELESS, third time I ask!!!', 'en'],
    ['this is useless', 'en'],
    ["you're not helping", 'en'],
    ['worst service ever', 'en'],
    ['this is ridiculous, I want my money back', 'en'],
    ['download keeps failing wtf', 'en'],
    ['WHY DOES MY MUSIC KEEP STOPPING???', 'en'],
    ['esto no sirve', 'es'],
    ['no me ayudas', 'es'],
    ['qué asco de servicio', 'es'],
    ['ESTO ES UNA MIERDA!!!', 'es'],
    ['pésimo servicio', 'es'],
    ['estoy harto, ya te lo dije', 'es'],
    ['NO PUEDO ENTRAR A MI CUENTA!!!', 'es'],
  ] as const)('a frustrated listener is noticed: "%s"', (text, language) => {
    const result = assessFrustration(text, language, []);
    expect(result.frustrated).toBe(true);
    expect(result.score).toBeGreaterThanOrEqual(FRUSTRATION_THRESHOLD);
  });

  it('names its signals', () => {
    const loud = assessFrustration('THIS APP IS USELESS!!!', 'en', []);
    expect(loud.signals).toEqual(expect.arrayContaining(['explicit_phrase', 'all_caps', 'exclamations', 'negative_sentiment']));
    expect(assessFrustration('my downloads are not working', 'en', []).signals).toEqual([]);
    expect(assessFrustration('terrible app, fix it', 'en', []).signals).toEqual(['negative_sentiment']);
    expect(assessFrustration('qué asco de servicio', 'es', []).signals).toContain('explicit_phrase');
  });

  it('matches explicit phrases without accents or apostrophes, in either language', () => {
    expect(assessFrustration('que asco de servicio', 'es', []).frustrated).toBe(true);
    expect(assessFrustration('youre not helping', 'en', []).frustrated).toBe(true);
    // A Spanish phrase in a conversation detected as English still counts.
    expect(assessFrustration('esto no sirve para nada', 'en', []).frustrated).toBe(true);
  });

  it('one mild signal alone is not enough', () => {
    expect(assessFrustration('WHY IS MY MUSIC STOPPING', 'en', []).frustrated).toBe(false);
    expect(assessFrustration('why is my music stopping???', 'en', []).frustrated).toBe(false);
    expect(assessFrustration('terrible app, fix it', 'en', []).frustrated).toBe(false);
  });

  it('counts the same message repeated from recentTexts (normalised), once for 1 point, twice for 2', () => {
    const text = 'My downloads are  not working!';
    const once = assessFrustration(text, 'en', ['my downloads are not working']);
    expect(once.signals).toEqual(['repeated']);
    expect(once.frustrated).toBe(false);
    const twice = assessFrustration(text, 'en', ['my downloads are not working', 'hello', 'my downloads are not working']);
    expect(twice.frustrated).toBe(true);
    expect(twice.score).toBe(2);
    const spanish = assessFrustration('no puedo descargar', 'es', ['no puedo descargar', 'no puedo descargar']);
    expect(spanish.frustrated).toBe(true);
  });

  it('repeated short answers such as "no" or "yes" are not repetition', () => {
    expect(assessFrustration('no', 'en', ['no', 'no', 'no']).signals).not.toContain('repeated');
    expect(assessFrustration('sí', 'es', ['sí', 'sí']).frustrated).toBe(false);
  });

  it('a repeated message plus shouting is frustrated', () => {
    const result = assessFrustration('MY DOWNLOADS ARE NOT WORKING', 'en', ['my downloads are not working']);
    expect(result.signals).toEqual(['repeated', 'all_caps']);
    expect(result.frustrated).toBe(true);
  });

  it('handles empty text', () => {
    expect(assessFrustration('', 'en', [])).toEqual({ frustrated: false, score: 0, signals: [] });
  });
});
