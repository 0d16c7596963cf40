// Types for the part of noVNC 1.x (an untyped ES module package) the console page uses.
declare module '@novnc/novnc' {
  /** noVNC's RFB client: draws the remote screen into a canvas inside `target` and sends input. */
  export default class RFB extends EventTarget {
    constructor(target: HTMLElement, url: string, options?: { wsProtocols?: string[]; shared?: boolean; credentials?: { password?: string } });
    viewOnly: boolean;
    scaleViewport: boolean;
    resizeSession: boolean;
    focusOnClick: boolean;
    background: string;
    qualityLevel: number;
    compressionLevel: number;
    disconnect(): void;
    focus(): void;
    sendCtrlAltDel(): void;
  }
}
