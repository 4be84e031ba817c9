/** Sends a finished report to the admins (email, or anything else that can take a message). */
export interface Notifier {
  send(report: {
    subject: string;
    text: string;
    html: string;
    attachments: Array<{ filename: string; content: string }>;
  }): Promise<void>;
}
