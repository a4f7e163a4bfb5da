// What the views share: the loaded engine (one at a time), the settings it was loaded with, whether a reply
// or sweep is running (the memory and KV views poll while it is), and the error line.

import type { WebkvEngine } from "webkv";
import { errorText } from "./format.js";

export interface LoadSettings {
  contextSize?: number;
  kv: string;
  attention: "flash" | "naive";
  kvBudget?: number;
}

type Listener = () => void;

class AppState {
  engine: WebkvEngine | undefined;
  /** Where the loaded model came from (the context sweep loads it again at each setting). */
  source: string | Blob | undefined;
  settings: LoadSettings = { kv: "f32", attention: "flash" };
  busy = false;
  private readonly listeners = new Set<Listener>();

  onChange(listener: Listener): void {
    this.listeners.add(listener);
  }

  changed(): void {
    for (const listener of this.listeners) listener();
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    this.changed();
  }
}

export const state = new AppState();

export function showError(error: unknown): void {
  const line = document.getElementById("error")!;
  line.textContent = errorText(error);
  line.hidden = false;
}

export function clearError(): void {
  const line = document.getElementById("error")!;
  line.textContent = "";
  line.hidden = true;
}

/**
 * A view that shows the loaded engine live: `update` runs when the state changes, every 300 ms while a reply
 * or sweep is running and the view is visible, and when the view is shown.
 */
export function keepUpdated(root: HTMLElement, update: () => Promise<void>): void {
  state.onChange(() => void update());
  setInterval(() => {
    if (state.busy && !root.hidden) void update();
  }, 300);
  new MutationObserver(() => { if (!root.hidden) void update(); }).observe(root, { attributes: true, attributeFilter: ["hidden"] });
}
