// The channel to the notebook: rich output through tslab when running inside the kernel,
// and a recording sink elsewhere (tests, scripts), so every display call is testable.

export type MimeType = "text/html" | "text/markdown" | "text/plain" | "image/png" | "image/svg+xml";

/** One displayed item: its mime type and payload (PNG bytes for images, text otherwise). */
export interface DisplayItem {
  mime: MimeType;
  data: string | Uint8Array;
  /** Set for outputs that update in place (live progress). */
  displayId?: string;
}

/** What a display target can do; tslab's Display and the recording sink both satisfy it. */
export interface Display {
  html(s: string): void;
  markdown(s: string): void;
  text(s: string): void;
  png(b: Uint8Array): void;
}

interface TslabModule {
  display: Display;
  newDisplay(): Display;
}

let recorded: DisplayItem[] = [];

/** True when running inside the tslab kernel (tslab's display is wired to Jupyter). */
export function inKernel(): boolean {
  try {
    // tslab sets lastWriteDisplayData once the kernel serves requests; outside it is null.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData?: unknown };
    return jupyter.lastWriteDisplayData != null;
  } catch {
    return false;
  }
}

/** True when a notebook is being executed without a person watching (runner, tests, CI). */
export function isHeadless(): boolean {
  return process.env.TRANSFER_LAB_HEADLESS === "1" || !inKernel();
}

function recordingDisplay(displayId?: string): Display {
  const push = (mime: MimeType, data: string | Uint8Array) => {
    if (displayId) {
      const i = recorded.findIndex((r) => r.displayId === displayId);
      if (i >= 0) {
        recorded[i] = { mime, data, displayId };
        return;
      }
    }
    recorded.push({ mime, data, displayId });
  };
  return {
    html: (s) => push("text/html", s),
    markdown: (s) => push("text/markdown", s),
    text: (s) => push("text/plain", s),
    png: (b) => push("image/png", b),
  };
}

function tslab(): TslabModule {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require("tslab") as TslabModule;
}

let displayCounter = 0;

/** The display for one-off outputs. */
export function display(): Display {
  return inKernel() ? tslab().display : recordingDisplay();
}

/** A display that overwrites itself in place on every call (progress, live plots). */
export function newDisplay(): Display {
  return inKernel() ? tslab().newDisplay() : recordingDisplay(`rec-${++displayCounter}`);
}

/** Outputs recorded outside the kernel since the last `takeRecorded()` (for tests). */
export function takeRecorded(): DisplayItem[] {
  const out = recorded;
  recorded = [];
  return out;
}

/** Text made safe inside HTML elements and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
