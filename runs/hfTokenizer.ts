// An hf export's tokenizer and chat template in the extension host (the playground): the model's own
// tokenizer.json read by @huggingface/tokenizers, and its chat template rendered by @huggingface/jinja,
// so a prompt has the ids the engine's hf backend gives it (hf_policy.HFTokenizer.encode_prompt).

import fs from "node:fs";
import path from "node:path";

import { Template as Jinja } from "@huggingface/jinja";
import { Tokenizer } from "@huggingface/tokenizers";

import type { Message } from "./prompts";

export class HfTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly chatTemplate: Jinja | null,
    private readonly specials: Record<string, string | null>,
    private readonly cleanUpSpaces: boolean,
  ) {}

  /** FOLDER/tokenizer.json, tokenizer_config.json and chat_template.jinja (when the model has one), as export.py writes them. */
  static load(folder: string): HfTokenizer {
    const read = (name: string) => JSON.parse(fs.readFileSync(path.join(folder, name), "utf8")) as Record<string, unknown>;
    const config = read("tokenizer_config.json");
    const templateFile = path.join(folder, "chat_template.jinja");
    const template = fs.existsSync(templateFile) ? fs.readFileSync(templateFile, "utf8") : typeof config.chat_template === "string" ? config.chat_template : null;
    const token = (v: unknown) => (typeof v === "string" ? v : v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string" ? (v as { content: string }).content : null);
    return new HfTokenizer(
      new Tokenizer(read("tokenizer.json"), config),
      template ? new Jinja(template) : null,
      // The special tokens a chat template may name, as transformers passes them.
      Object.fromEntries(["bos_token", "eos_token", "pad_token", "unk_token"].map((k) => [k, token(config[k])])),
      // transformers (5) cleans up spaces in decode only when the config says so; tokenizers.js would by default.
      config.clean_up_tokenization_spaces === true,
    );
  }

  get hasChatTemplate(): boolean {
    return this.chatTemplate !== null;
  }

  /** Ids of `text`; with the model's special tokens (its BOS, if it adds one) when `special`. */
  encode(text: string, special = false): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: special }).ids;
  }

  decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: this.cleanUpSpaces });
  }

  /** The conversation through the model's chat template, ending where the assistant's answer begins. */
  applyChatTemplate(conversation: readonly Message[]): string {
    if (!this.chatTemplate) throw new Error("the model's tokenizer has no chat template");
    return this.chatTemplate.render({ messages: conversation, add_generation_prompt: true, ...this.specials });
  }
}
