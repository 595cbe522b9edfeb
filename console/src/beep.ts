/**
 * The high-priority alert sound: a short WebAudio tone, generated rather than a sound file so
 * nothing is fetched. Muting is remembered per browser (localStorage), not per session: it is
 * a property of the workstation's room, not of whoever logged in.
 */
const MUTE_KEY = 'platesieve.muted';
let ctx: AudioContext | undefined;

export function isMuted(): boolean {
  return localStorage.getItem(MUTE_KEY) === '1';
}

export function setMuted(muted: boolean): void {
  localStorage.setItem(MUTE_KEY, muted ? '1' : '0');
}

/** Two short tones; silently nothing when muted or when the browser allows no audio yet. */
export function beep(): void {
  if (isMuted()) return;
  try {
    ctx ??= new AudioContext();
    if (ctx.state === 'suspended') void ctx.resume();
    const t0 = ctx.currentTime;
    for (const [at, freq] of [[0, 880], [0.18, 1175]] as const) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'square';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t0 + at);
      gain.gain.exponentialRampToValueAtTime(0.15, t0 + at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + at + 0.15);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0 + at);
      osc.stop(t0 + at + 0.16);
    }
  } catch {
    // No audio device or autoplay refused: the visual alert still shows.
  }
}
