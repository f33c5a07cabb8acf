// Cloudflare's "Use KV from Durable Objects" example (../shared/seeds), as
// its authors wrote it, with only its obvious bugs fixed: the misplaced
// brace that closed the class after its constructor, roomId for
// roomIdParam, Env for Environment, implements DurableObject for
// "implements Durable Object", a put that had no value, and the env field
// the constructor sets.
interface Env {
  YOUR_KV_NAMESPACE: KVNamespace;
  YOUR_DO_CLASS: DurableObjectNamespace;
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    // We assume each Durable Object is mapped to a roomId in a query parameter
    // In a production application, this will likely be a roomId defined by your application
    // that you validate (and/or authenticate) first.
    let url = new URL(req.url)
    let roomIdParam = url.searchParams.get("roomId")

    if (roomIdParam) {
      // Create (or get) a Durable Object based on that roomId.
      let durableObjectId = env.YOUR_DO_CLASS.idFromName(roomIdParam);
      // Get a "stub" that allows us to call that Durable Object
      let durableObjectStub = env.YOUR_DO_CLASS.get(durableObjectId);

      // Pass the request to that Durable Object and await the response
      // This invokes the constructor once on your Durable Object class (defined further down)
      // on the first initialization, and the fetch method on each request.
      //
      // We could pass the original Request to the Durable Object's fetch method
      // or a simpler URL with just the roomId.
      let response = await durableObjectStub.fetch(`http://do/${roomIdParam}`);

      // This would return the value we read from KV *within* the Durable Object.
      return response;
    }
  }
}

export class YourDurableObject implements DurableObject {
  env: Env;

  constructor(public state: DurableObjectState, env: Env) {
      this.state = state;
      // Ensure we pass our bindings and environmental variables into
      // each Durable Object when it is initialized
      this.env = env;
  }

  async fetch(request: Request) {
    // Error handling elided for brevity.
    // Write to KV
    await this.env.YOUR_KV_NAMESPACE.put("some-key", "some-value");

    // Fetch from KV
    let val = await this.env.YOUR_KV_NAMESPACE.get("some-other-key");

    return Response.json(val)
  }
}
