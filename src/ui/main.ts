// The webkv app: six views over the public library API (imported as "webkv", as any app would).

import { renderChat } from "./views/chat.js";
import { renderEstimator } from "./views/estimator.js";
import { renderKv } from "./views/kv.js";
import { renderMemory } from "./views/memory.js";
import { renderModels } from "./views/models.js";
import { renderScaling } from "./views/scaling.js";
import { state } from "./state.js";

const tabs = [...document.querySelectorAll<HTMLButtonElement>('nav [role="tab"]')];

function select(tab: HTMLButtonElement): void {
  for (const other of tabs) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")!)!.hidden = !selected;
  }
}

tabs.forEach((tab, i) => {
  tab.tabIndex = i === 0 ? 0 : -1;
  tab.addEventListener("click", () => select(tab));
  tab.addEventListener("keydown", (event) => {
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (step === 0) return;
    const next = tabs[(i + step + tabs.length) % tabs.length]!;
    select(next);
    next.focus();
  });
});

const view = (id: string) => document.getElementById(id)!;
renderModels(view("view-models"));
renderChat(view("view-chat"));
renderMemory(view("view-memory"));
renderKv(view("view-kv"));
renderScaling(view("view-scaling"));
renderEstimator(view("view-estimator"));
document.body.dataset.ready = "true";

// For the browser console (and the app's tests): the engine the app is using, through the same public API.
(window as unknown as { webkvApp: { engine(): unknown } }).webkvApp = { engine: () => state.engine };
