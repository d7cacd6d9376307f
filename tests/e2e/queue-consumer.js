// Reads every message of an Azure Storage queue with Microsoft's own client
// (@azure/storage-queue) and prints one event per line as JSON.
// usage: node queue-consumer.js CONNECTION_STRING QUEUE base64|none
'use strict';
const { QueueClient } = require('@azure/storage-queue');
const [conn, queue, encoding] = process.argv.slice(2);

(async () => {
  const q = new QueueClient(conn, queue);
  for (;;) {
    const r = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
    if (r.receivedMessageItems.length === 0) break;
    for (const m of r.receivedMessageItems) {
      const text = encoding === 'base64' ? Buffer.from(m.messageText, 'base64').toString('utf8') : m.messageText;
      console.log(JSON.stringify(JSON.parse(text)));
      await q.deleteMessage(m.messageId, m.popReceipt);
    }
  }
})().catch((e) => {
  console.error(String(e));
  process.exit(1);
});
