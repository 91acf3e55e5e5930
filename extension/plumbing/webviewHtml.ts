// The HTML around a webview bundle: a strict Content-Security-Policy with a nonce, resources only from
// the extension's dist/webview folder, VS Code's theme variables for colours.

import { randomBytes } from "node:crypto";
import * as vscode from "vscode";

export function webviewRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, "dist", "webview");
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [webviewRoot(extensionUri)] };
}

/** A Content-Security-Policy nonce: 128 random bits from the system's CSPRNG, as CSP asks. */
export function newNonce(): string {
  return randomBytes(16).toString("base64");
}

/** The page for one of the bundles in dist/webview (dashboard, explorer, schedule, playground). */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, bundle: "dashboard" | "explorer" | "schedule" | "playground", title: string): string {
  const nonce = newNonce();
  const root = webviewRoot(extensionUri);
  const script = webview.asWebviewUri(vscode.Uri.joinPath(root, `${bundle}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(root, `${bundle}.css`));
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource} 'unsafe-inline'`, // Lit components and chart.js set inline styles
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    // monaco's workers: fetched from the bundle folder and started from blob: URLs
    `connect-src ${webview.cspSource}`,
    "worker-src blob:",
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>${title.replace(/[<&"]/g, "")}</title>
</head>
<body>
<div id="app" data-title="${title.replace(/[<&"]/g, "")}" data-root="${webview.asWebviewUri(root).toString()}"></div>
<script type="module" nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
