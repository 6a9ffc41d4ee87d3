// The Overview's catalogue cards: active products and products low on stock, as
// /admin/api/products counts them; read again on every refresh and when products may have moved.
import { api } from "./api.js";
import { setCard, setCardError } from "./cards.js";
import { count } from "./format.js";

const RELOAD_MIN_INTERVAL_MS = 30000;
let loadedAt = 0;

async function load() {
  loadedAt = Date.now();
  try {
    const body = await api.get("/admin/api/products?limit=1");
    setCard("active_products", body.active_products, count);
    setCard("low_stock", body.low_stock_products, count);
  } catch (err) {
    setCardError("active_products", err.message);
    setCardError("low_stock", err.message);
  }
}

document.addEventListener("live:refresh", load);
// Orders drain stock: re-read at most every 30 s while transactions arrive.
document.addEventListener("live:feed", () => {
  if (Date.now() - loadedAt >= RELOAD_MIN_INTERVAL_MS) load();
});
load();
