export const schedule = { name: "forgot the default export" };
