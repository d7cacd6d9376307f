// The tests' view of an Azure Blob container, through Microsoft's SDK
// (@azure/storage-blob), as an application reading an export would.
// usage: node blob-tool.js create|sas|list|get CONNECTION_STRING CONTAINER [PREFIX | NAME FILE]
//   create       makes the container
//   sas          prints the container's URL with a SAS token (create, write, read, list)
//   list PREFIX  prints "name<TAB>size" of the blobs under PREFIX, in name order
//   get NAME F   downloads blob NAME into file F
const { BlobServiceClient, ContainerSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters } =
  require('@azure/storage-blob');

async function main() {
  const [cmd, conn, container, a, b] = process.argv.slice(2);
  const service = BlobServiceClient.fromConnectionString(conn);
  const c = service.getContainerClient(container);
  if (cmd === 'create') {
    await c.create();
  } else if (cmd === 'sas') {
    const name = /AccountName=([^;]+)/.exec(conn)[1], key = /AccountKey=([^;]+)/.exec(conn)[1];
    const sas = generateBlobSASQueryParameters({
      containerName: container, permissions: ContainerSASPermissions.parse('rcwl'),
      expiresOn: new Date(Date.now() + 3600 * 1000),
    }, new StorageSharedKeyCredential(name, key)).toString();
    console.log(`${c.url}?${sas}`);
  } else if (cmd === 'list') {
    const rows = [];
    for await (const blob of c.listBlobsFlat({ prefix: a || '' })) rows.push(`${blob.name}\t${blob.properties.contentLength}`);
    rows.sort();
    if (rows.length) console.log(rows.join('\n'));
  } else if (cmd === 'get') {
    await c.getBlobClient(a).downloadToFile(b);
  } else {
    throw new Error(`unknown command ${cmd}`);
  }
}
main().catch((e) => { console.error(e.message); process.exit(1); });
