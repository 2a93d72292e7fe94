import { SupportChatElement } from './chat-widget.js';

/**
 * Embedding: <script src="https://help.example.com/widget.js" data-server="wss://help.example.com/ws"
 * data-color="#5b3cc4" data-lang="es" data-brand="Melodrift" defer></script>
 * The script defines <support-chat> and adds one to the page, configured from its data attributes.
 */
if (!customElements.get('support-chat')) customElements.define('support-chat', SupportChatElement);

const script = document.currentScript as HTMLScriptElement | null;
if (script && !document.querySelector('support-chat')) {
  const widget = document.createElement('support-chat');
  const { server, color, lang, brand, open } = script.dataset;
  const origin = new URL(script.src, location.href);
  widget.setAttribute('server', server ?? `${origin.protocol === 'https:' ? 'wss' : 'ws'}://${origin.host}/ws`);
  if (color) widget.setAttribute('color', color);
  if (lang) widget.setAttribute('lang', lang);
  if (brand) widget.setAttribute('brand', brand);
  if (open !== undefined) widget.setAttribute('open', '');
  document.body.append(widget);
}
